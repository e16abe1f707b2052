// Helpers the management screens share (projects, project, settings, tokens, users): field
// errors next to their fields, a status line, and a confirmation dialog. Text only, via h().
import { ApiError, describe } from './api.js';
import { h } from './dom.js';

/** A polite live region for "Saved." style results and errors in words. */
export function statusLine(id) {
  return h('p', { id, class: 'status-line', role: 'status', 'aria-live': 'polite' });
}

/**
 * Shows a result (kind 'ok' | 'error') in a status line made by statusLine(). The same text
 * again is left alone: replacing the text node would make a screen reader announce it again.
 */
export function say(line, text, kind = 'ok') {
  line.dataset.kind = kind;
  if (line.textContent !== (text || '')) line.textContent = text || '';
}

/** Removes the field errors that showFieldErrors() put into a form. */
export function clearFieldErrors(form) {
  for (const old of form.querySelectorAll('.field-error')) {
    const control = form.querySelector('#' + CSS.escape(old.dataset.for));
    if (control) {
      control.removeAttribute('aria-invalid');
      const described = (control.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== old.id);
      if (described.length) {
        control.setAttribute('aria-describedby', described.join(' '));
      } else {
        control.removeAttribute('aria-describedby');
      }
    }
    old.remove();
  }
}

/**
 * Puts a `validation-failed` answer's field errors next to their controls. `controls` maps
 * the API's field names to inputs. Returns true when at least one error found its field
 * (focus moves to the first one); false leaves it to the caller to say the whole error.
 */
export function showFieldErrors(form, error, controls) {
  clearFieldErrors(form);
  if (!(error instanceof ApiError) || !Array.isArray(error.problem.errors)) {
    return false;
  }
  let first = null;
  for (const { field, message } of error.problem.errors) {
    const control = controls[field];
    if (!control) continue;
    const note = h('span', { class: 'field-error', id: control.id + '-error', text: message });
    note.dataset.for = control.id;
    control.setAttribute('aria-invalid', 'true');
    const described = control.getAttribute('aria-describedby');
    control.setAttribute('aria-describedby', described ? described + ' ' + note.id : note.id);
    control.after(note);
    first = first || control;
  }
  if (first) first.focus();
  return first !== null;
}

/** The error in words, with a plainer sentence for the codes a person meets on these screens. */
export function words(error) {
  if (error instanceof ApiError) {
    switch (error.code) {
      case 'last-admin':
        return 'This would leave no admin: make someone else an admin first.';
      case 'forbidden':
        return 'You are not allowed to do this. ' + describe(error);
      default:
        return describe(error);
    }
  }
  return describe(error);
}

/**
 * A modal confirmation: <dialog id> with buttons `<id>-yes` and `<id>-no`. Resolves true
 * when confirmed. Escape and "no" resolve false; focus goes back to where it was. The dialog
 * belongs to the view `ctx`: leaving the view (a link, back/forward) closes it with false, so
 * "yes" can never act on a page the user has already left.
 */
export function confirmDialog(ctx, { id, title, text, yes, danger = true }) {
  document.getElementById(id)?.remove();
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const headingId = id + '-title';
    const yesButton = h('button', { type: 'button', id: id + '-yes', class: danger ? 'danger' : 'primary', text: yes });
    const noButton = h('button', { type: 'button', id: id + '-no', text: 'Cancel' });
    const dialog = h('dialog', { id, class: 'confirm', 'aria-labelledby': headingId },
      h('h2', { id: headingId, text: title }), h('p', { text }), h('p', { class: 'actions' }, yesButton, noButton));
    let answer = false;
    yesButton.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    noButton.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve(answer);
    });
    closeOnLeave(ctx, dialog);
    document.body.append(dialog);
    dialog.showModal();
    noButton.focus();
  });
}

/** A modal dialog opened by a view closes when the user leaves that view. */
export function closeOnLeave(ctx, dialog) {
  ctx.onLeave(() => {
    if (dialog.open) dialog.close();
  });
}
