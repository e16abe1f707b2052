// The /setup page: posts the setup link's token with the chosen login and password.
const form = document.getElementById('setup');
const status = document.getElementById('status');
const token = new URLSearchParams(window.location.search).get('token');

if (!token) {
  status.textContent = 'This page needs the setup link from the server log (/setup?token=…).';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const body = {
    token,
    login: data.get('login'),
    password: data.get('password'),
    displayName: data.get('displayName') || null,
  };
  status.textContent = 'Creating…';
  const response = await fetch('/api/auth/setup', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status === 201) {
    status.textContent = 'Done: log in as ' + body.login + '.';
    form.hidden = true;
    return;
  }
  const problem = await response.json().catch(() => ({}));
  status.textContent = problem.detail || ('Failed (' + response.status + ').');
});
