// /: the caller's projects (GET /api/projects lists only theirs) and the form that creates one.
import { get, put, ApiError } from '../api.js';
import { h, field, link, seg, replace } from '../dom.js';
import { statusLine, say, showFieldErrors, words } from '../forms.js';

const KEY_RULE = '[a-z0-9][a-z0-9._\\-]{0,63}';

export default async function projects(ctx) {
  ctx.title('Projects');
  const { items } = await get('/api/projects', { signal: ctx.signal });
  const list = h('ul', { id: 'projects', class: 'project-list' });
  ctx.root.append(h('h1', { text: 'Projects' }), list);
  renderList(ctx, list, items);
  ctx.root.append(newProjectForm(ctx));
}

function renderList(ctx, list, items) {
  if (!items.length) {
    // A new user's first screen: say what to do rather than show an empty box.
    const who = ctx.shell.me ? ctx.shell.me.login : '';
    replace(list, h('li', { class: 'empty' },
      h('p', { text: 'You are not in any project yet.' }),
      h('p', { class: 'muted', text: 'Create one below, or ask a project admin to add you as a member'
        + (who ? ' (your login is ' + who + ').' : '.') })));
    return;
  }
  replace(list, items.map((project) => {
    const role = ctx.shell.roleIn(project.key);
    return h('li', { class: 'project-item' },
      h('a', { class: 'project-link', href: '/p/' + seg(project.key), 'data-nav': true, text: project.name }),
      ' ', h('span', { class: 'muted key', text: project.key }),
      role ? h('span', { class: 'badge role', text: role }) : null);
  }));
}

function newProjectForm(ctx) {
  const key = h('input', { id: 'project-key', name: 'key', required: true, pattern: KEY_RULE, maxlength: '64',
    autocapitalize: 'none', spellcheck: 'false' });
  const name = h('input', { id: 'project-name', name: 'name', required: true, maxlength: '200' });
  const repo = h('input', { id: 'project-repo', name: 'repoUrl', maxlength: '2048', inputmode: 'url',
    spellcheck: 'false' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Create project' });
  const status = statusLine('new-project-status');
  const form = h('form', { id: 'new-project', class: 'narrow', 'aria-labelledby': 'new-project-heading' },
    h('h2', { id: 'new-project-heading', text: 'New project' }),
    field('Key', key, 'Used in links: lower-case letters, digits, dot, underscore, hyphen; starts with a letter or digit; at most 64.'),
    field('Name', name),
    field('Repository URL (optional)', repo, 'https://…, ssh://…, git://… or user@host:path'),
    h('p', { class: 'actions' }, submit), status);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    say(status, '');
    const projectKey = key.value.trim();
    try {
      // Create-only: an existing key with other settings is 409, never a silent update.
      const { response } = await put('/api/projects/' + seg(projectKey),
        { name: name.value.trim(), repoUrl: repo.value.trim() || null },
        { headers: { 'If-None-Match': '*' }, raw: true });
      if (response.status === 201) {
        await ctx.shell.refreshMe();
        if (ctx.signal.aborted) return; // the user went elsewhere meanwhile: stay there
        ctx.shell.navigate('/p/' + seg(projectKey));
        return;
      }
      // 200: it exists already, with exactly these settings.
      say(status, 'A project with the key ' + projectKey + ' exists already.', 'error');
      status.append(' ', link('/p/' + seg(projectKey), 'Open it'));
    } catch (error) {
      if (showFieldErrors(form, error, { key, name, repoUrl: repo })) {
        say(status, 'Check the fields marked above.', 'error');
      } else if (error instanceof ApiError && error.code === 'project-exists') {
        say(status, 'The key ' + projectKey + ' is taken by another project: choose another key.', 'error');
        key.focus();
      } else if (error instanceof ApiError && error.status === 404) {
        // The key belongs to a project the caller cannot see (the server does not say which).
        say(status, 'This key is not available: choose another.', 'error');
        key.focus();
      } else if (error instanceof ApiError && error.status === 403 && ctx.shell.roleIn(projectKey)) {
        say(status, 'A project with this key exists (you are its ' + ctx.shell.roleIn(projectKey) + ').', 'error');
        status.append(' ', link('/p/' + seg(projectKey), 'Open it'));
      } else if (error instanceof ApiError && error.status === 403) {
        say(status, 'You may not create projects on this server: ask a server admin.', 'error');
      } else {
        say(status, words(error), 'error');
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
