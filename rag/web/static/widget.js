// Docent widget: one script tag adds a launcher button that opens the chat in an iframe.
//   <script src="https://docent.example/widget.js" data-title="Ask HR" data-collection="hr"
//           data-theme="auto" data-token="<portal-signed JWT>"></script>
// API for the page: window.Docent.open(), .close(), .ask(question), .setCollection(name),
// .setToken(jwt); or window.postMessage({type: "docent:open" | "docent:close" |
// "docent:ask" | "docent:set-collection", ...}) from the page itself.
(() => {
  const script = document.currentScript;
  const base = new URL(".", script.src);
  const data = script.dataset;
  const query = new URLSearchParams();
  for (const key of ["title", "collection", "theme"]) if (data[key]) query.set(key, data[key]);
  const src = new URL(`embed?${query}`, base);

  const frame = document.createElement("iframe");
  frame.id = "docent-frame";
  frame.title = data.title || "Docent";
  frame.src = src.toString();
  Object.assign(frame.style, {
    position: "fixed", right: "20px", bottom: "84px", width: "380px", height: "560px",
    maxHeight: "calc(100vh - 110px)", border: "1px solid #d0d7de", borderRadius: "12px",
    boxShadow: "0 8px 30px rgba(0,0,0,.18)", background: "#fff", display: "none", zIndex: 2147483646,
  });
  const launcher = document.createElement("button");
  launcher.id = "docent-launcher";
  launcher.type = "button";
  launcher.textContent = data.label || "Ask Docent";
  launcher.setAttribute("aria-expanded", "false");
  Object.assign(launcher.style, {
    position: "fixed", right: "20px", bottom: "20px", padding: "12px 18px", border: "0",
    borderRadius: "24px", background: "#0969da", color: "#fff", font: "600 14px system-ui, sans-serif",
    cursor: "pointer", boxShadow: "0 4px 14px rgba(0,0,0,.2)", zIndex: 2147483647,
  });

  let ready = false;
  // The token goes to the frame by postMessage once it is ready, never in its URL.
  const queue = data.token ? [{ type: "docent:token", token: data.token }] : [];
  const send = (message) => (ready ? frame.contentWindow.postMessage(message, base.origin) : queue.push(message));
  window.addEventListener("message", (event) => {
    if (event.source === frame.contentWindow && event.data && event.data.type === "docent:ready") {
      ready = true;
      while (queue.length) frame.contentWindow.postMessage(queue.shift(), base.origin);
    }
  });

  const api = {
    open() { frame.style.display = "block"; launcher.setAttribute("aria-expanded", "true"); },
    close() { frame.style.display = "none"; launcher.setAttribute("aria-expanded", "false"); },
    toggle() { frame.style.display === "none" ? api.open() : api.close(); },
    ask(question) { api.open(); send({ type: "docent:ask", question: String(question) }); },
    setCollection(collection) { send({ type: "docent:set-collection", collection }); },
    setToken(token) { send({ type: "docent:token", token }); },
  };
  launcher.addEventListener("click", api.toggle);
  window.addEventListener("message", (event) => {
    if (event.source !== window || !event.data || typeof event.data.type !== "string") return;
    const { type } = event.data;
    if (type === "docent:open") api.open();
    else if (type === "docent:close") api.close();
    else if (type === "docent:ask") api.ask(event.data.question);
    else if (type === "docent:set-collection") api.setCollection(event.data.collection);
  });
  window.Docent = api;
  const mount = () => document.body.append(frame, launcher);
  document.body ? mount() : document.addEventListener("DOMContentLoaded", mount);
})();
