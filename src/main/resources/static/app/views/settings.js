// /p/{key}/settings: a project admin changes the project's name and repository URL and its
// members (add, change role, remove). Others get a page that says why there is nothing here.
import { get, put, del, ApiError } from '../api.js';
import { h, field, link, seg, replace } from '../dom.js';
import { statusLine, say, showFieldErrors, clearFieldErrors, confirmDialog, words } from '../forms.js';

const ROLES = ['viewer', 'member', 'admin'];

export default async function settings(ctx) {
  const key = ctx.params.key;
  const base = '/api/projects/' + seg(key);
  const info = await get(base, { signal: ctx.signal }); // a non-member: the router's "Not found"
  if (ctx.shell.roleIn(key) !== 'admin') {
    await ctx.shell.refreshMe();
  }
  ctx.title('Settings · ' + info.name);
  const back = h('p', {}, link('/p/' + seg(key), '← ' + info.name));
  if (ctx.shell.roleIn(key) !== 'admin') {
    ctx.root.append(back, h('h1', { text: 'Project settings' }),
      h('p', { id: 'settings-forbidden', text: 'Only project admins can change this project\'s settings and members.' }));
    return;
  }
  ctx.root.append(back, h('h1', { text: 'Settings of ' + info.name }), projectForm(ctx, key, base, info));
  const members = { key, base, tbody: h('tbody'), status: statusLine('members-status') };
  ctx.root.append(h('h2', { id: 'members-heading', text: 'Members' }),
    h('div', { class: 'table-wrap' }, h('table', { id: 'members', 'aria-labelledby': 'members-heading' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Login' }), h('th', { scope: 'col', text: 'Name' }),
        h('th', { scope: 'col', text: 'Role' }), h('th', { scope: 'col', text: 'Actions' }))),
      members.tbody)),
    members.status, addMemberForm(ctx, members));
  await loadMembers(ctx, members);
}

function projectForm(ctx, key, base, info) {
  const name = h('input', { id: 'project-name', name: 'name', required: true, maxlength: '200', value: info.name });
  const repo = h('input', { id: 'project-repo', name: 'repoUrl', maxlength: '2048', value: info.repoUrl || '',
    spellcheck: 'false' });
  // Who may allow or deny the agent's tool calls (approvals): members and admins, or admins only.
  const approvers = h('select', { id: 'project-approvers', name: 'approvers' },
    h('option', { value: 'members', text: 'Members and admins' }), h('option', { value: 'admins', text: 'Admins only' }));
  approvers.value = info.approvers === 'admins' ? 'admins' : 'members';
  // What a message sent while the agent works does (issue 16): wait in the queue, or be refused.
  const busyPolicy = h('select', { id: 'project-busy-policy', name: 'busyPolicy' },
    h('option', { value: 'queue', text: 'Queue messages while the agent works' }),
    h('option', { value: 'reject', text: 'Reject them ("busy")' }));
  busyPolicy.value = info.busyPolicy === 'reject' ? 'reject' : 'queue';
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Save' });
  const status = statusLine('project-status');
  const form = h('form', { id: 'project-form', class: 'narrow', 'aria-labelledby': 'project-form-heading' },
    h('h2', { id: 'project-form-heading', text: 'Project' }),
    h('p', { class: 'muted' }, 'Key: ', h('span', { class: 'key', text: key })),
    field('Name', name), field('Repository URL (optional)', repo, 'https://…, ssh://…, git://… or user@host:path'),
    field('Who approves the agent\'s tool calls', approvers, 'When the agent asks permission to use a tool, these '
      + 'project roles can allow or deny it (server admins always can).'),
    typeof info.busyPolicy !== 'string' ? null : field('Messages sent while the agent is working', busyPolicy, 'Queued messages run one after another when the '
      + 'run in progress ends; rejected ones must be sent again.'),
    h('p', { class: 'actions' }, submit), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    say(status, '');
    clearFieldErrors(form);
    try {
      const saved = await put(base, { name: name.value.trim(), repoUrl: repo.value.trim() || null,
        approvers: approvers.value, ...(typeof info.busyPolicy === 'string' ? { busyPolicy: busyPolicy.value } : {}) });
      if (saved.approvers) approvers.value = saved.approvers;
      if (saved.busyPolicy) busyPolicy.value = saved.busyPolicy;
      ctx.title('Settings · ' + saved.name);
      document.querySelector('h1').textContent = 'Settings of ' + saved.name;
      say(status, 'Saved.');
    } catch (error) {
      if (showFieldErrors(form, error, { name, repoUrl: repo, approvers, busyPolicy })) {
        say(status, 'Not saved: check the fields marked above.', 'error');
      } else {
        say(status, 'Not saved: ' + words(error), 'error');
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

async function loadMembers(ctx, members) {
  const { items } = await get(members.base + '/members', { signal: ctx.signal });
  replace(members.tbody, items.map((member) => memberRow(ctx, members, member)));
  if (!items.length) {
    members.tbody.append(h('tr', {}, h('td', { colspan: '4', class: 'muted',
      text: 'No members yet (server admins are admin of every project).' })));
  }
}

function memberRow(ctx, members, member) {
  const selectId = 'role-of-' + member.login;
  const select = h('select', { class: 'role', id: selectId },
    ROLES.map((role) => h('option', { value: role, text: role })));
  select.value = member.role;
  // Choosing a role does not save it: Chromium fires `change` for every arrow key on a
  // closed select, so a keyboard user moving through the options would grant each role in
  // turn (WCAG 3.2.2). The explicit button saves; it is enabled only when the choice differs.
  const save = h('button', { type: 'button', class: 'save-role', text: 'Save role', disabled: true,
    'aria-label': 'Save role of ' + member.login });
  const remove = h('button', { type: 'button', class: 'remove danger', text: 'Remove',
    'aria-label': 'Remove ' + member.login });
  const row = h('tr', { class: 'member-row', dataset: { login: member.login } },
    h('td', { class: 'login', text: member.login }), h('td', { class: 'display-name', text: member.displayName || '' }),
    h('td', {}, h('div', { class: 'row-actions' },
      h('label', { for: selectId, class: 'visually-hidden', text: 'Role of ' + member.login }), select, save)),
    h('td', {}, remove));

  select.addEventListener('change', () => {
    save.disabled = select.value === member.role;
  });
  save.addEventListener('click', async () => {
    const role = select.value;
    if (role === member.role) return;
    // Locked while the PUT is in flight: a second choice cannot race the first.
    select.disabled = true;
    save.disabled = true;
    try {
      const saved = await put(members.base + '/members/' + seg(member.login), { role });
      member.role = saved.role;
      say(members.status, member.login + ' is now ' + saved.role + '.');
    } catch (error) {
      say(members.status, 'Could not change the role of ' + member.login + ': ' + words(error), 'error');
    } finally {
      select.value = member.role; // what the server has, after success or failure
      select.disabled = false;
      save.disabled = true;
      select.focus();
    }
    await afterOwnChange(ctx, members, member.login);
  });
  remove.addEventListener('click', async () => {
    const yes = await confirmDialog(ctx, { id: 'confirm-remove', title: 'Remove ' + member.login + '?',
      text: member.login + ' will no longer see this project or its sessions.', yes: 'Remove' });
    if (!yes || ctx.signal.aborted) return;
    try {
      await del(members.base + '/members/' + seg(member.login));
      row.remove();
      say(members.status, member.login + ' was removed.');
      document.getElementById('member-login')?.focus();
      await afterOwnChange(ctx, members, member.login);
    } catch (error) {
      say(members.status, 'Could not remove ' + member.login + ': ' + words(error), 'error');
    }
  });
  return row;
}

/** After a change of one's own membership the role may be gone: ask again, leave if so. */
async function afterOwnChange(ctx, members, login) {
  if (!ctx.shell.me || ctx.shell.me.login !== login) return;
  try {
    await ctx.shell.refreshMe();
  } catch (error) {
    say(members.status, 'Your own role could not be checked again: ' + words(error), 'error');
    return;
  }
  if (ctx.signal.aborted) return; // the user has moved on: do not pull them back
  if (ctx.shell.roleIn(members.key) !== 'admin') {
    ctx.shell.navigate('/p/' + seg(members.key), { replace: true });
  }
}

function addMemberForm(ctx, members) {
  const login = h('input', { id: 'member-login', name: 'login', required: true, autocapitalize: 'none',
    spellcheck: 'false', maxlength: '64' });
  const role = h('select', { id: 'member-role', name: 'role' }, ROLES.map((r) => h('option', { value: r, text: r })));
  role.value = 'member';
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Add member' });
  const status = statusLine('add-member-status');
  const form = h('form', { id: 'add-member', class: 'narrow', 'aria-labelledby': 'add-member-heading' },
    h('h3', { id: 'add-member-heading', text: 'Add a member' }),
    field('Login', login), field('Role', role), h('p', { class: 'actions' }, submit), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    say(status, '');
    const who = login.value.trim();
    try {
      const saved = await put(members.base + '/members/' + seg(who), { role: role.value });
      await loadMembers(ctx, members);
      say(status, saved.login + ' is ' + saved.role + ' of this project.');
      login.value = '';
      login.focus();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not-found') {
        say(status, 'There is no user with the login ' + who + '.', 'error');
      } else if (!showFieldErrors(form, error, { login })) {
        say(status, words(error), 'error');
      } else {
        say(status, 'Check the login.', 'error');
      }
      login.focus();
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
