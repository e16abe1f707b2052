// TODO(issue 14): the project view.
import { h } from '../dom.js';

export default async function view(ctx) {
  ctx.title('project');
  ctx.root.append(h('h1', { text: 'project' }));
}
