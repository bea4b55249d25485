// The scan of a power of attorney is hashed here, in the browser; only its SHA-256 is
// submitted (the file input has no name, so the file itself never leaves this computer).
for (const input of document.querySelectorAll('input[type="file"][data-digest-into]')) {
  input.addEventListener('change', async () => {
    const target = document.getElementById(input.dataset.digestInto);
    const file = input.files && input.files[0];
    if (!target || !file || !window.crypto || !window.crypto.subtle) return;
    const digest = await window.crypto.subtle.digest('SHA-256', await file.arrayBuffer());
    target.value = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  });
}
