// TODO(issue 14): the projects view.
import { h } from '../dom.js';

export default async function view(ctx) {
  ctx.title('projects');
  ctx.root.append(h('h1', { text: 'projects' }));
}
