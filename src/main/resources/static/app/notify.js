// Desktop notifications (issue 16): the user turns them on with "Notify me" (the browser asks
// for permission on that click: browsers ignore a request without a user gesture), and the
// choice is remembered in this browser (localStorage). A session view then notifies while its
// tab is hidden: a run the user started ended, or an approval waits that the user may decide.

const KEY = 'collab.notify';

/** True when this browser can show notifications at all. */
export function supported() {
  return typeof window.Notification === 'function';
}

/** The user turned notifications on here (whatever the permission says now). */
export function wanted() {
  try {
    return localStorage.getItem(KEY) === 'on';
  } catch {
    return false;
  }
}

function remember(on) {
  try {
    if (on) localStorage.setItem(KEY, 'on');
    else localStorage.removeItem(KEY);
  } catch {
    // Storage disabled: the choice lasts for this page only.
  }
}

/** On and allowed: notifications will be shown. */
export function enabled() {
  return supported() && wanted() && Notification.permission === 'granted';
}

/**
 * Turns notifications on (asking for permission: call it from a click) or off. Resolves to
 * 'on', 'off', 'denied' (the browser or the user refused) or 'unsupported'.
 */
export async function toggle() {
  if (!supported()) return 'unsupported';
  if (enabled()) {
    remember(false);
    return 'off';
  }
  let permission = Notification.permission;
  if (permission !== 'granted') {
    try {
      permission = await Notification.requestPermission();
    } catch {
      permission = 'denied';
    }
  }
  if (permission !== 'granted') {
    remember(false);
    return 'denied';
  }
  remember(true);
  return 'on';
}

/**
 * Shows a notification if they are enabled and the tab is hidden (a visible tab shows the
 * event itself). `tag` replaces an earlier notification of the same thing; clicking it brings
 * this tab to the front and calls onClick.
 */
export function show(title, body, { tag, onClick } = {}) {
  if (!enabled() || document.visibilityState !== 'hidden') return null;
  let notification;
  try {
    notification = new Notification(title, { body, tag });
  } catch {
    // Some browsers only allow notifications from a service worker: nothing is shown.
    return null;
  }
  notification.onclick = () => {
    window.focus();
    notification.close();
    if (onClick) onClick();
  };
  return notification;
}
