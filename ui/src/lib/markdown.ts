// Message text to safe HTML: Markdown (markdown-it, raw HTML off, images off) and then DOMPurify
// with an allow-list, so whatever anyone types, no script, handler, image or foreign URL scheme
// reaches the page. Links keep only http(s) targets and get rel="noopener noreferrer"; the list
// opens them with `open_in_browser`, never in the webview. No Vue, no IPC.
import DOMPurify from 'dompurify'
import MarkdownIt from 'markdown-it'

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false })
// A remote image would load on sight (a read receipt for its host): images stay links or text.
md.disable(['image'])

const ALLOWED_TAGS = [
  'p',
  'br',
  'strong',
  'em',
  's',
  'del',
  'code',
  'pre',
  'blockquote',
  'ul',
  'ol',
  'li',
  'a',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
]
const ALLOWED_ATTR = ['href', 'title', 'start']

/** True for a link the app may open: absolute http(s) only. */
export function isSafeHref(href: string | null | undefined): href is string {
  if (!href) return false
  try {
    const url = new URL(href)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

let purifier: ReturnType<typeof DOMPurify> | null = null

function purify(): ReturnType<typeof DOMPurify> {
  if (purifier) return purifier
  // An instance of our own, so the hook below never affects anyone else's DOMPurify.
  const p = DOMPurify(window)
  p.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName !== 'A') return
    const href = node.getAttribute('href')
    if (!isSafeHref(href)) node.removeAttribute('href')
    node.setAttribute('rel', 'noopener noreferrer')
  })
  purifier = p
  return p
}

const LETTERS = /[\p{L}\p{N}]/gu
const letters = (s: string) => s.match(LETTERS)?.length ?? 0

/** The text as escaped plain text, line breaks kept. */
function plain(text: string): string {
  const escaped = text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
  return `<p>${escaped.replace(/\r?\n/g, '<br>')}</p>`
}

/**
 * True when the HTML shows (nearly) all the letters of the source, in text or link targets.
 * Markdown nested past the parser's limit silently loses its content; such a message is shown
 * as plain text instead, so nothing anyone wrote disappears.
 */
function keepsText(source: string, html: string): boolean {
  const template = document.createElement('template')
  template.innerHTML = html
  const hrefs = [...template.content.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'))
  const shown = letters(template.content.textContent ?? '') + letters(hrefs.join(' '))
  return shown >= letters(source) * 0.8
}

const cache = new Map<string, string>()
const CACHE_SIZE = 500

/** The message's Markdown as sanitised HTML (memoised: the list re-renders rows as it scrolls). */
export function renderMarkdown(text: string): string {
  const hit = cache.get(text)
  if (hit !== undefined) return hit
  const sanitized = purify().sanitize(md.render(text), {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: /^https?:/i,
    ALLOW_DATA_ATTR: false,
  })
  const html = keepsText(text, sanitized) ? sanitized : plain(text)
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string)
  cache.set(text, html)
  return html
}
