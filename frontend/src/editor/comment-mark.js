// The `comment` mark that anchors a comment thread to its passage (contract: crdt/COMMENTS.md).
// Keep the name, `excludes: ''` and the single attribute exactly as they are: y-tiptap stores
// an overlapping mark under `comment--<hash of {type, attrs}>`, and the server computes the
// same key; any other attribute would make browser and server keys differ. A schema without
// this mark would make y-tiptap drop the text of commented paragraphs.
import { Mark, mergeAttributes } from '@tiptap/core'

export const CommentMark = Mark.create({
  name: 'comment',
  excludes: '',
  inclusive: false,
  addAttributes () {
    return {
      threadId: {
        default: null,
        parseHTML: el => el.getAttribute('data-thread-id'),
        renderHTML: a => ({ 'data-thread-id': a.threadId }),
      },
    }
  },
  parseHTML () { return [{ tag: 'span[data-thread-id]' }] },
  renderHTML ({ HTMLAttributes }) {
    return ['span', mergeAttributes({ class: 'comment' }, HTMLAttributes), 0]
  },
})
