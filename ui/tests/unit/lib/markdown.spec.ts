import { describe, expect, it } from 'vitest'
import { isSafeHref, renderMarkdown } from '../../../src/lib/markdown'

/** Parses the HTML the way the page would and returns the fragment. */
function dom(html: string): HTMLElement {
  const div = document.createElement('div')
  div.innerHTML = html
  return div
}

function hasHandlers(root: HTMLElement): boolean {
  return [...root.querySelectorAll('*')].some((el) =>
    [...el.attributes].some((a) => a.name.toLowerCase().startsWith('on')),
  )
}

describe('renderMarkdown', () => {
  it('renders the Markdown people type', () => {
    const root = dom(renderMarkdown('**bold** *it* `code`\n- one\n- two'))
    expect(root.querySelector('strong')?.textContent).toBe('bold')
    expect(root.querySelector('em')?.textContent).toBe('it')
    expect(root.querySelector('code')?.textContent).toBe('code')
    expect(root.querySelectorAll('li')).toHaveLength(2)
  })

  it('shows an <img onerror> as text, never as an element', () => {
    const text = '<img src=x onerror=alert(1)>'
    const root = dom(renderMarkdown(text))
    expect(root.querySelector('img')).toBeNull()
    expect(hasHandlers(root)).toBe(false)
    expect(root.textContent).toContain(text)
  })

  it('shows <script> as text', () => {
    const root = dom(renderMarkdown('<script>alert(1)</script>'))
    expect(root.querySelector('script')).toBeNull()
    expect(root.textContent).toContain('<script>alert(1)</script>')
  })

  it('makes a javascript: Markdown link inert', () => {
    const root = dom(renderMarkdown('[x](javascript:alert(1))'))
    for (const a of root.querySelectorAll('a'))
      expect(a.getAttribute('href') ?? '').not.toMatch(/javascript/i)
    expect(root.innerHTML).not.toMatch(/href="javascript/i)
  })

  it('shows a raw <a href="javascript:…"> as text', () => {
    const root = dom(renderMarkdown('<a href="javascript:alert(document.cookie)">click</a>'))
    expect(root.querySelector('a')).toBeNull()
    expect(root.textContent).toContain('<a href="javascript:alert(document.cookie)">click</a>')
  })

  it('makes data:, vbscript: and mixed-case javascript: links inert', () => {
    for (const href of [
      'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
      'vbscript:msgbox(1)',
      'JaVaScRiPt:alert(1)',
      'java\tscript:alert(1)',
    ]) {
      const root = dom(renderMarkdown(`[x](${href}) <${href}>`))
      for (const a of root.querySelectorAll('a'))
        expect(isSafeHref(a.getAttribute('href'))).toBe(true)
      expect(hasHandlers(root)).toBe(false)
    }
  })

  it('does not load images, even from Markdown image syntax', () => {
    const root = dom(renderMarkdown('![pixel](https://tracker.example/p.png)'))
    expect(root.querySelector('img')).toBeNull()
  })

  it('gives http(s) links rel="noopener noreferrer" and no target', () => {
    const root = dom(renderMarkdown('see https://example.com and [docs](http://docs.example/x)'))
    const links = [...root.querySelectorAll('a')]
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      'https://example.com',
      'http://docs.example/x',
    ])
    for (const a of links) {
      expect(a.getAttribute('rel')).toBe('noopener noreferrer')
      expect(a.hasAttribute('target')).toBe(false)
    }
  })

  it('keeps no style, class, id or event attributes from anything', () => {
    const root = dom(
      renderMarkdown('<p style="position:fixed" onclick="x()" class="a" id="b">hi</p>'),
    )
    expect(root.querySelector('[style],[class],[id],[onclick]')).toBeNull()
  })

  it('renders a 100 KB message quickly and safely', () => {
    const chunk = 'lorem **ipsum** <img src=x onerror=alert(1)> [a](javascript:alert(1)) '
    const text = chunk.repeat(Math.ceil(100_000 / chunk.length))
    expect(text.length).toBeGreaterThanOrEqual(100_000)
    const started = performance.now()
    const root = dom(renderMarkdown(text))
    expect(performance.now() - started).toBeLessThan(2000)
    expect(root.querySelector('img,script')).toBeNull()
    expect(hasHandlers(root)).toBe(false)
    expect(root.innerHTML).not.toMatch(/href="javascript/i)
  })

  it('shows Markdown nested too deep as plain text, still escaped', () => {
    const deep = '>'.repeat(300) + ' deep <img src=x onerror=alert(1)>'
    const root = dom(renderMarkdown(deep))
    expect(root.textContent).toContain('deep <img src=x onerror=alert(1)>')
    expect(root.querySelector('img')).toBeNull()
  })

  it('survives pathological nesting', () => {
    const root = dom(renderMarkdown('>'.repeat(5000) + ' deep ' + '['.repeat(5000)))
    expect(root.textContent).toContain('deep')
  })
})

describe('isSafeHref', () => {
  it('accepts absolute http(s) only', () => {
    expect(isSafeHref('https://example.com/a?b#c')).toBe(true)
    expect(isSafeHref('http://127.0.0.1:8080')).toBe(true)
    for (const bad of [
      'javascript:alert(1)',
      'data:text/html,x',
      'file:///etc/passwd',
      '/relative',
      '',
      null,
    ])
      expect(isSafeHref(bad)).toBe(false)
  })
})
