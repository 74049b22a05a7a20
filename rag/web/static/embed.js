// The embeddable chat. Every document text is set with textContent (never innerHTML), so markup
// in documents is shown as text and never runs; the page's Content-Security-Policy allows no
// script, style or image from anywhere but Docent. A token comes by postMessage from the widget
// (or in the URL fragment, which is dropped at once).
(() => {
  const params = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const state = {
    collection: params.get("collection") || null,
    token: fragment.get("token") || null,
    conversation: null,
  };
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);  // drop the token from the URL
  document.documentElement.dataset.theme = params.get("theme") || "auto";
  const title = params.get("title");
  if (title) { document.getElementById("docent-title").textContent = title; document.title = title; }
  const messages = document.getElementById("messages");
  const input = document.getElementById("docent-input");

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // `text` as nodes, each range {start, end, make} wrapped in the element make() returns;
  // ranges nest or lie apart (one that crosses another, or leaves the text, is left out).
  function decorated(text, ranges) {
    const root = document.createDocumentFragment();
    const open = [{ node: root, end: text.length }];
    let at = 0;
    const close = () => { const top = open.pop(); top.node.append(text.slice(at, top.end)); at = top.end; };
    for (const r of ranges.slice().sort((a, b) => a.start - b.start || b.end - a.end)) {
      while (open.length > 1 && open[open.length - 1].end <= r.start) close();
      if (!(at <= r.start && r.start < r.end && r.end <= open[open.length - 1].end)) continue;
      const node = r.make();
      open[open.length - 1].node.append(text.slice(at, r.start), node);
      open.push({ node, end: r.end });
      at = r.start;
    }
    while (open.length > 1) close();
    root.append(text.slice(at));
    return root;
  }

  // The server's offsets count code points; JavaScript strings count UTF-16 units (an emoji is
  // two): at(i) is code point i's place in the string.
  function utf16(text) {
    const places = [0];
    for (const ch of text) places.push(places[places.length - 1] + ch.length);
    return (i) => places[Math.max(0, Math.min(i, places.length - 1))];
  }

  function renderAnswer(bubble, answer) {
    bubble.textContent = "";
    bubble.classList.remove("pending");
    const at = utf16(answer.text);
    const ranges = (answer.sentences || []).filter((s) => !s.supported).map((s) => ({
      start: at(s.start), end: at(s.end),
      make: () => { const weak = el("span", "unsupported"); weak.title = s.cites.length ? `Weakly supported (support ${s.score.toFixed(2)})` : "No passage Docent found supports this sentence"; return weak; },
    }));
    const short = answer.short_answer;
    if (short && short.answer_span) {
      ranges.push({ start: at(short.answer_span[0]), end: at(short.answer_span[1]), make: () => el("strong", "short") });
    }
    bubble.append(decorated(answer.text, ranges));
    for (const c of answer.citations) {
      const card = el("div", "card");
      card.dataset.n = c.n;
      card.append(el("div", "meta", `[${c.n}] ${c.title} · ${c.name}` + (c.location ? `, ${c.location}` : "")));
      // The cited sentences with a little context around them, not the whole passage.
      const inPassage = utf16(c.passage);
      const spans = c.highlights.map(([a, b]) => [inPassage(a), inPassage(b)]).sort((a, b) => a[0] - b[0]);
      const from = spans.length ? Math.max(0, spans[0][0] - 160) : 0;
      const to = spans.length ? Math.min(c.passage.length, spans[spans.length - 1][1] + 160) : 400;
      const text = el("p", "text");
      let pos = from;
      if (from > 0) text.append("… ");
      for (const [start, end] of spans) {
        if (start < pos) continue;
        text.append(c.passage.slice(pos, start), el("mark", null, c.passage.slice(start, end)));
        pos = end;
      }
      text.append(c.passage.slice(pos, Math.max(pos, to)) + (to < c.passage.length ? " …" : ""));
      card.append(text);
      messages.append(card);
    }
  }

  async function ask(question) {
    question = (question || "").trim();
    if (!question) return;
    messages.append(el("p", "msg user", question));
    const bubble = el("p", "msg answer pending", "…");
    messages.append(bubble);
    const headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const body = { question, conversation_id: state.conversation };
    if (state.collection) body.collections = [state.collection];
    try {
      const response = await fetch("api/v1/ask/stream", { method: "POST", headers, body: JSON.stringify(body) });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw new Error(problem.error ? problem.error.message : `HTTP ${response.status}`);
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "", streamed = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          let event = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trim();
          }
          const payload = data ? JSON.parse(data) : {};
          if (event === "token") { streamed += payload.text; bubble.textContent = streamed; }
          else if (event === "answer") {
            state.conversation = payload.conversation_id;
            renderAnswer(bubble, payload);
            bubble.previousSibling.scrollIntoView({ block: "start" });
          }
          else if (event === "error") throw new Error(payload.error.message);
        }
      }
    } catch (error) {
      bubble.classList.remove("pending");
      bubble.classList.add("error");
      bubble.textContent = `Sorry, I could not answer: ${error.message}`;
    }
  }

  document.getElementById("docent-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value;
    input.value = "";
    ask(question);
  });

  // postMessage API for the page that embeds us: ask, set-collection, token.
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || !event.data || typeof event.data !== "object") return;
    const { type } = event.data;
    if (type === "docent:ask") ask(String(event.data.question || ""));
    else if (type === "docent:set-collection") { state.collection = event.data.collection || null; state.conversation = null; }
    else if (type === "docent:token") { state.token = event.data.token || null; state.conversation = null; }
  });
  window.parent.postMessage({ type: "docent:ready" }, "*");
})();
