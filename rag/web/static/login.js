// Sign in to the chat UI: the credential (an API key, or a portal token handed over in the URL
// fragment as #token=…, which never reaches a server in a URL) becomes an HttpOnly session cookie.
(() => {
  const form = document.getElementById("docent-login");
  const input = document.getElementById("docent-credential");
  const error = document.getElementById("docent-login-error");

  const signIn = async (credential) => {
    error.textContent = "";
    const response = await fetch("/auth/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Requested-With": "docent" },
      body: JSON.stringify({ credential }),
    });
    if (response.ok) {
      location.replace("/");
      return;
    }
    const body = await response.json().catch(() => ({}));
    error.textContent = (body.error && body.error.message) || `Sign-in failed (${response.status})`;
  };

  const fragment = new URLSearchParams(location.hash.slice(1));
  if (location.hash) history.replaceState(null, "", location.pathname);  // drop the token
  if (fragment.get("token")) signIn(fragment.get("token"));

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(input.value.trim());
  });
})();
