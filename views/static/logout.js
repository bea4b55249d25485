// The relying party sent an id_token_hint from this very session: it has shown who is
// signing out, so the confirmation submits itself. Without script the buttons remain.
const button = document.querySelector('[data-auto-logout] button[name="logout"]');
if (button) button.click();
