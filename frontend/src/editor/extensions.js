// The Tiptap extensions of the Quire editor.
import { Extension } from '@tiptap/core'
import StarterKit from '@tiptap/starter-kit'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import { TaskItem, TaskList } from '@tiptap/extension-list'
import { TableKit } from '@tiptap/extension-table'
import { CharacterCount, Placeholder } from '@tiptap/extensions'
import Subscript from '@tiptap/extension-subscript'
import Superscript from '@tiptap/extension-superscript'
import { search } from 'prosemirror-search'
import { Plugin } from '@tiptap/pm/state'
import { Abbreviation, Definition } from './abbreviations.js'
import { renderCaret, renderSelection } from './carets.js'
import { collapsibles } from './collapsibles.js'
import { CommentMark } from './comment-mark.js'
import { CommentAnchors } from './comments/anchors.js'
import { LineKeys } from './line-keys.js'
import { ReaderKeys } from './reader-keys.js'
import { cleanPastedHtml } from './paste.js'
import { selectionFromPage } from './selection-sync.js'
import { textToYjs } from './text-to-yjs.js'
import { textMentions } from './text-mentions.js'

/**
 * Shortcuts that Tiptap does not bind by default (PRODUCT.md): Mod-Shift-X strike (Tiptap's
 * Mod-Shift-S stays too), Mod-K for the link dialog and Mod-Alt-M for a comment.
 * Mod-Alt-Y describes the selected image (alt text and caption).
 * Mod-Alt-Shift-S turns Suggesting on and off.
 * @param {{onLink: () => void, onComment: () => void, onDescribeImage: () => void, onToggleSuggesting: () => void}} handlers
 */
function quireKeys ({ onLink, onComment, onDescribeImage, onToggleSuggesting }) {
  return Extension.create({
    name: 'quireKeys',
    addKeyboardShortcuts () {
      return {
        'Mod-Shift-x': () => this.editor.commands.toggleStrike(),
        'Mod-k': () => {
          onLink()
          return true
        },
        'Mod-Alt-m': () => {
          onComment()
          return true
        },
        'Mod-Alt-y': () => {
          onDescribeImage()
          return true
        },
        'Mod-Alt-Shift-s': () => {
          onToggleSuggesting()
          return true
        },
      }
    },
  })
}

const CleanPaste = Extension.create({
  name: 'cleanPaste',
  addProseMirrorPlugins () {
    return [new Plugin({ props: { transformPastedHTML: cleanPastedHtml } })]
  },
})

/**
 * A list's spacing: "loose" when the Markdown it came from had blank lines between its items
 * (an export writes them again); new lists are tight.
 */
const ListSpacing = Extension.create({
  name: 'listSpacing',
  addGlobalAttributes () {
    return [{
      types: ['bulletList', 'orderedList', 'taskList'],
      attributes: {
        spacing: {
          default: null,
          parseHTML: (el) => el.getAttribute('data-spacing') === 'loose' ? 'loose' : null,
          renderHTML: (attrs) => attrs.spacing === 'loose' ? { 'data-spacing': 'loose' } : {},
        },
      },
    }]
  },
})

/** prosemirror-search's plugin: holds the find bar's query and highlights its matches. */
const Find = Extension.create({
  name: 'find',
  addProseMirrorPlugins () {
    return [search()]
  },
})

/**
 * @param {{
 *   doc: import('yjs').Doc, provider: any, user: {name: string, color: string},
 *   onLink: () => void, onComment: () => void, onCommentClick: (threadId: string | null) => void,
 *   docId: string, canShare: () => boolean, figures: import('@tiptap/core').AnyExtension[],
 *   onDescribeImage: () => void, suggestions: import('@tiptap/core').AnyExtension[],
 *   onToggleSuggesting: () => void,
 * }} options
 */
export function buildExtensions ({ doc, provider, user, onLink, onComment, onCommentClick, docId, canShare, figures, onDescribeImage, suggestions, onToggleSuggesting }) {
  return [
    StarterKit.configure({
      undoRedo: false, // Collaboration brings Yjs undo: it undoes only this person's changes
      trailingNode: false, // every peer would append its own trailing paragraph concurrently
      heading: { levels: [1, 2, 3, 4, 5, 6] },
      link: {
        openOnClick: false,
        autolink: true,
        linkOnPaste: true,
        defaultProtocol: 'https',
        HTMLAttributes: { rel: 'noopener noreferrer nofollow', target: null },
      },
    }),
    TaskList,
    TaskItem.configure({ nested: true }),
    ListSpacing,
    Subscript,
    Superscript,
    Abbreviation,
    Definition,
    ...collapsibles,
    TableKit.configure({ table: { resizable: false } }),
    CommentMark,
    CommentAnchors.configure({ onClick: onCommentClick }),
    CharacterCount,
    Placeholder.configure({ placeholder: 'Start writing…' }),
    Collaboration.configure({ document: doc }),
    CollaborationCaret.configure({ provider, user, render: renderCaret, selectionRender: renderSelection }),
    quireKeys({ onLink, onComment, onDescribeImage, onToggleSuggesting }),
    Find,
    LineKeys,
    ReaderKeys,
    CleanPaste,
    selectionFromPage(doc),
    textToYjs(doc),
    textMentions(docId, canShare),
    ...figures,
    ...suggestions,
  ]
}
