// The QR tab of the login page: polls the code's status and, once the app has confirmed,
// submits the page's own form (which works by hand too, without this script).
(function () {
  'use strict';
  var box = document.querySelector('[data-qr-status-url]');
  if (!box) return;
  var line = box.querySelector('[data-qr-status]');
  var form = box.querySelector('form[data-qr-complete]');
  var url = box.getAttribute('data-qr-status-url');
  var INTERVAL = 2000;
  var shown = 'pending';

  function show(status) {
    var text = line && line.getAttribute('data-text-' + status);
    if (text && status !== shown) {
      line.textContent = text;
      shown = status;
    }
    box.setAttribute('data-qr-state', status);
  }

  function poll() {
    // Hidden (a phone, where the login page starts on the password): nothing to show, nothing to ask.
    if (box.getClientRects().length === 0) {
      setTimeout(poll, INTERVAL);
      return;
    }
    fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) { return response.ok ? response.json() : { status: 'expired' }; })
      .then(function (body) {
        var status = body && body.status;
        show(status);
        if (status === 'confirmed') {
          form.submit();
          return;
        }
        if (status === 'pending' || status === 'scanned') setTimeout(poll, INTERVAL);
      })
      .catch(function () { setTimeout(poll, INTERVAL * 2); });
  }

  setTimeout(poll, INTERVAL);
})();
