// TODO(issue 14): the settings view.
import { h } from '../dom.js';

export default async function view(ctx) {
  ctx.title('settings');
  ctx.root.append(h('h1', { text: 'settings' }));
}
