// TODO(issue 14): the users view.
import { h } from '../dom.js';

export default async function view(ctx) {
  ctx.title('users');
  ctx.root.append(h('h1', { text: 'users' }));
}
