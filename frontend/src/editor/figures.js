// Figures: pictures in the text (Tiptap's Image, inline, resizable), uploaded to the server
// (POST /api/docs/{id}/images) from the toolbar, a paste or a drop, with alt text and an
// optional caption (the image's `title`, shown under it). The server serves a document's
// images only to people who can read it; someone on a share link gets them with its token.
import { mergeAttributes } from '@tiptap/core'
import FileHandler from '@tiptap/extension-file-handler'
import Image from '@tiptap/extension-image'
import { NodeSelection, Selection } from '@tiptap/pm/state'
import { h } from '../shared/dom.js'
import { uploadImage, withAccessToken } from '../shared/api.js'

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp']
const STORED = /^\/api\/docs\/[A-Za-z0-9_-]{1,64}\/images\/[0-9a-f]{64}$/

/** What the document keeps as `src`: a stored image's path without any access token. @param {string | null} src */
export function storedSource (src) {
  if (!src) return src
  try {
    const url = new URL(src, location.origin)
    if (url.origin === location.origin && STORED.test(url.pathname)) return url.pathname
  } catch { /* not a URL: kept as written */ }
  return src
}

/** What the page loads: a stored image with the link token when there is one. @param {string | null} src */
function shownSource (src) {
  return src && STORED.test(src) ? withAccessToken(src) : src
}

const Figure = Image.extend({
  addAttributes () {
    return {
      ...this.parent?.(),
      src: {
        default: null,
        parseHTML: (el) => storedSource(el.getAttribute('src')),
        renderHTML: (attrs) => ({ src: shownSource(attrs.src) }),
      },
      // the width a person chose by dragging; the height follows the picture
      width: { default: null, parseHTML: (el) => Number(el.getAttribute('width')) || null },
      height: { default: null, parseHTML: () => null, renderHTML: () => ({}) },
      // a linked image (a README's badge): where it points, kept for the export
      href: {
        default: null,
        parseHTML: (el) => el.closest('a')?.getAttribute('href') || null,
        renderHTML: (attrs) => attrs.href ? { 'data-href': attrs.href } : {},
      },
    }
  },

  addKeyboardShortcuts () {
    // With a picture selected the browser's Ctrl+Home/End left the selection on it, and the
    // next keystroke replaced the picture: move to the document's ends here.
    const toEnd = (/** @type {'start' | 'end'} */ where) => () => {
      if (!(this.editor.state.selection instanceof NodeSelection)) return false
      const { doc } = this.editor.state
      const pos = where === 'start' ? Selection.atStart(doc) : Selection.atEnd(doc)
      this.editor.view.dispatch(this.editor.state.tr.setSelection(pos).scrollIntoView())
      return true
    }
    return { 'Mod-Home': toEnd('start'), 'Mod-End': toEnd('end') }
  },

  renderHTML ({ HTMLAttributes }) {
    return ['img', mergeAttributes({ class: 'figure-img', loading: 'lazy' }, HTMLAttributes)]
  },

  addNodeView () {
    const make = this.parent?.()
    if (!make) return null
    return (props) => {
      const view = make(props)
      const caption = h('span', { class: 'figure-caption', 'aria-hidden': 'true' })
      const dom = /** @type {HTMLElement} */ (view.dom)
      dom.classList.add('figure')
      dom.append(caption)
      const img = dom.querySelector('img')
      const show = (/** @type {import('@tiptap/pm/model').Node} */ node) => {
        caption.textContent = node.attrs.title || ''
        caption.hidden = !node.attrs.title
        if (img) {
          img.alt = node.attrs.alt || ''
          // Tiptap's view applies the width once: a co-author's resize arrives as an update
          img.style.width = node.attrs.width ? `${node.attrs.width}px` : ''
          // a broken or refused picture still takes space and can be selected and removed
          img.onerror = () => { dom.style.visibility = ''; dom.style.pointerEvents = ''; dom.classList.add('is-broken') }
        }
      }
      show(props.node)
      const update = view.update?.bind(view)
      view.update = (node, decorations, inner) => {
        const kept = update ? update(node, decorations, inner) : false
        if (kept) show(node)
        return kept
      }
      return view
    }
  },
})

/** A file's name as a start for alt text: "edge-nodes_v2.png" -> "edge nodes v2". @param {File} file */
function altFromName (file) {
  return (file.name || '').replace(/\.[a-z0-9]+$/i, '').replace(/[-_]+/g, ' ').trim().slice(0, 200)
}

/**
 * @param {{docId: string, onError: (message: string) => void, onStatus: (message: string) => void}} options
 */
export function figureExtensions ({ docId, onError, onStatus }) {
  /**
   * Upload each file and insert it at `pos` (mapped through what others typed meanwhile).
   * @param {import('@tiptap/core').Editor} editor @param {File[]} files @param {number} pos
   * @returns {Promise<number | null>} where the first picture went (null: none was added)
   */
  async function insertFiles (editor, files, pos) {
    if (!editor.isEditable || !files.length) return null
    /** @type {number | null} */
    let first = null
    // a position that follows the document while the upload runs
    const tracker = { pos }
    const follow = (/** @type {{transaction: import('@tiptap/pm/state').Transaction}} */ { transaction }) => {
      tracker.pos = transaction.mapping.map(tracker.pos)
    }
    editor.on('transaction', follow)
    try {
      for (const file of files) {
        onStatus(`Uploading ${file.name || 'picture'}…`)
        try {
          const image = await uploadImage(docId, file)
          if (!editor.isEditable || editor.isDestroyed) return first
          const at = Math.min(tracker.pos, editor.state.doc.content.size)
          editor.chain().focus().insertContentAt(at, {
            type: 'image', attrs: { src: image.url, alt: altFromName(file) },
          }).run()
          // where the image landed (inserting into the gap between blocks makes a paragraph)
          const landed = findImageNear(editor, at, image.url)
          if (first === null) first = landed
          tracker.pos = landed === null ? editor.state.selection.from : landed + 1
        } catch (err) {
          onError(`${file.name || 'The picture'} was not added: ${err instanceof Error ? err.message : err}`)
        }
      }
    } finally {
      editor.off('transaction', follow)
      onStatus('')
    }
    return first
  }

  return {
    insertFiles,
    extensions: [
      Figure.configure({
        inline: true,
        allowBase64: false,
        resize: { enabled: true, directions: ['bottom-right', 'bottom-left'], minWidth: 40, minHeight: 20, alwaysPreserveAspectRatio: true },
      }),
      FileHandler.configure({
        allowedMimeTypes: IMAGE_TYPES,
        consumePasteEvent: true, // a copied picture arrives as a file and as HTML: insert it once
        onDrop: (editor, files, pos) => { insertFiles(editor, files, pos) },
        onPaste: (editor, files) => { insertFiles(editor, files, editor.state.selection.from) },
      }),
    ],
  }
}

/** The position of the image with `src` closest after `at`. @param {import('@tiptap/core').Editor} editor @param {number} at @param {string} src */
function findImageNear (editor, at, src) {
  /** @type {number | null} */
  let found = null
  const doc = editor.state.doc
  doc.nodesBetween(Math.max(0, at - 2), Math.min(doc.content.size, at + 4), (node, pos) => {
    if (found === null && node.type.name === 'image' && node.attrs.src === src) found = pos
    return found === null
  })
  return found
}

/** The selected image, if the selection is one. @param {import('@tiptap/core').Editor} editor */
export function selectedImage (editor) {
  const { selection } = editor.state
  return selection instanceof NodeSelection && selection.node.type.name === 'image' ? selection.node : null
}
