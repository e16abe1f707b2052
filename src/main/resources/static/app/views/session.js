// TODO(issue 14): the session view.
import { h } from '../dom.js';

export default async function view(ctx) {
  ctx.title('session');
  ctx.root.append(h('h1', { text: 'session' }));
}
