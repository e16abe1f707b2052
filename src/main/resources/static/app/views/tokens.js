// TODO(issue 14): the tokens view.
import { h } from '../dom.js';

export default async function view(ctx) {
  ctx.title('tokens');
  ctx.root.append(h('h1', { text: 'tokens' }));
}
