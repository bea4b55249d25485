// Small aids on citizen forms; every form works without them.
// 1. A "显示" button beside each password field, so a person can check what they typed.
for (const input of document.querySelectorAll('input[type="password"][data-text-show]')) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'reveal secondary';
  button.textContent = input.dataset.textShow;
  button.setAttribute('aria-pressed', 'false');
  button.setAttribute('aria-controls', input.id);
  button.addEventListener('click', () => {
    const shown = input.type === 'text';
    input.type = shown ? 'password' : 'text';
    button.textContent = shown ? input.dataset.textShow : input.dataset.textHide;
    button.setAttribute('aria-pressed', String(!shown));
  });
  input.insertAdjacentElement('afterend', button);
}

// 2. After a code was sent, its button counts down the seconds until another may be sent
//    (the server refuses earlier sends anyway; this only saves a refused try).
for (const form of document.querySelectorAll('form.send-code[data-wait]')) {
  const button = form.querySelector('button[data-send-code]') ?? form.querySelector('button[type="submit"]');
  let left = Number(form.dataset.wait);
  if (!button || !(left > 0)) continue;
  const label = button.textContent;
  const tick = () => {
    if (left <= 0) {
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = form.dataset.textWait.replace('{seconds}', String(left));
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
}
