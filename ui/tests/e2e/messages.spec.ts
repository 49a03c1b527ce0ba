// The message pane in Chromium against the fake backend: sending (pending, stored, failed and
// retried), each message once, Markdown with hostile text inert, links to the system browser,
// typing, the length limit, day separators and grouping, and a 10,000-message chat.
import { expect, test, type Page } from '@playwright/test'
import { messageTexts, openSignedIn } from './helpers'

test.use({ viewport: { width: 1100, height: 760 } })

async function openRust(page: Page, extra = {}): Promise<string[]> {
  const dialogs = await openSignedIn(page, extra)
  await page.getByTestId('tab-rust').click()
  await expect(page.getByTestId('message').last()).toContainText('Nice, thanks Bob!')
  return dialogs
}

test('history: day separators, grouping, own messages on the right, Markdown', async ({ page }) => {
  await openRust(page)
  await expect(page.getByTestId('day')).toHaveText(['Yesterday', 'Today'])
  const mine = page.getByTestId('message').filter({ hasText: 'Nice, thanks Bob!' })
  await expect(mine).toHaveClass(/mine/)
  const box = await mine.locator('.bubble').boundingBox()
  const list = await page.getByTestId('message-list').boundingBox()
  expect(box!.x + box!.width).toBeGreaterThan(list!.x + list!.width * 0.8)
  // Bob's two messages a minute apart form one group: his name shows once.
  const bobs = page.getByTestId('message').filter({ hasText: /Release notes|Lists work/ })
  await expect(bobs.locator('.sender')).toHaveCount(1)
  await expect(
    page.getByTestId('message').filter({ hasText: 'Lists work' }).locator('li'),
  ).toHaveCount(2)
  await expect(page.getByTestId('message').locator('time').first()).toHaveText(/^\d\d:\d\d$/)
})

test('send: pending with a spinner, then stored, shown once', async ({ page }) => {
  await openRust(page, { sendDelayMs: 600 })
  await page.getByTestId('composer').fill('Hello **world**')
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('composer')).toHaveValue('')
  const last = page.getByTestId('message').last()
  await expect(last).toHaveAttribute('data-status', 'sending')
  await expect(last.locator('.chatr-spinner')).toBeVisible()
  await expect(last).toHaveAttribute('data-status', 'sent')
  await expect(last.locator('strong')).toHaveText('world')
  await page.waitForTimeout(200)
  expect((await messageTexts(page)).filter((t) => t.includes('Hello'))).toHaveLength(1)
})

test('Shift+Enter makes a new line; Enter sends both lines', async ({ page }) => {
  await openRust(page)
  await page.getByTestId('composer').click()
  await page.keyboard.type('line one')
  await page.keyboard.press('Shift+Enter')
  await page.keyboard.type('line two')
  await expect(page.getByTestId('composer')).toHaveValue('line one\nline two')
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('message').last()).toContainText('line one\nline two')
})

test('a failed send shows Retry, which resends with the same clientKey', async ({ page }) => {
  await openRust(page, { sendFailures: { count: 1, kind: 'offline' } })
  await page.getByTestId('composer').fill('are you there?')
  await page.getByTestId('send').click()
  const last = page.getByTestId('message').last()
  await expect(last).toHaveAttribute('data-status', 'failed')
  await expect(last).toContainText('Not sent: The server cannot be reached.')
  await last.getByRole('button', { name: 'Retry' }).click()
  await expect(last).toHaveAttribute('data-status', 'sent')
  const keys = await page.evaluate(() =>
    window.__CHATR_FAKE__.args.filter((a) => a.cmd === 'send_message').map((a) => a.args.clientKey),
  )
  expect(keys).toHaveLength(2)
  expect(keys[1]).toBe(keys[0])
  expect((await messageTexts(page)).filter((t) => t.includes('are you there?'))).toHaveLength(1)
})

test('hostile text is rendered inert: no element created, no dialog, no navigation', async ({
  page,
}) => {
  await page.addInitScript(() => {
    const w = window as unknown as { __created: string[] }
    w.__created = []
    new MutationObserver((records) => {
      for (const r of records)
        for (const n of r.addedNodes)
          if (n instanceof Element)
            for (const el of [n, ...n.querySelectorAll('*')])
              if (
                ['IMG', 'SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'SVG'].includes(
                  el.tagName.toUpperCase(),
                ) &&
                el.closest('[data-testid=message]')
              )
                w.__created.push(el.tagName)
    }).observe(document, { childList: true, subtree: true })
  })
  const dialogs = await openRust(page)
  const hostile = [
    '<img src=x onerror=alert(1)>',
    '<script>alert(2)</script>',
    '[click me](javascript:alert(3))',
    '<a href="javascript:alert(4)">raw link</a>',
    '![img](https://tracker.example/p.png)',
    '<svg onload=alert(5)>',
    '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==)',
  ]
  await page.evaluate((texts) => {
    for (const t of texts) window.__CHATR_FAKE__.say('rust', 'github:7', t)
  }, hostile)
  await page.getByTestId('composer').fill('<img src=y onerror=alert(7)> mine')
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('message').last()).toContainText(
    '<img src=y onerror=alert(7)> mine',
  )
  await expect(
    page.getByTestId('message').filter({ hasText: '<script>alert(2)</script>' }),
  ).toHaveCount(1)
  await expect(
    page.getByTestId('message').filter({ hasText: '<img src=x onerror=alert(1)>' }),
  ).toHaveCount(1)
  const links = page.getByTestId('message').locator('a')
  for (const href of await links.evaluateAll((as) => as.map((a) => a.getAttribute('href'))))
    expect(href === null || /^https?:/.test(href)).toBe(true)
  // Clicking what looks like a link does nothing at all.
  const inert = page.getByTestId('message').getByText('click me')
  await inert.click()
  await page.waitForTimeout(300)
  expect(
    await page.evaluate(() => (window as unknown as { __created: string[] }).__created),
  ).toEqual([])
  expect(
    await page.locator('[data-testid=message] img, [data-testid=message] script').count(),
  ).toBe(0)
  expect(dialogs).toEqual([])
  expect(page.url()).toMatch(/^http:\/\/127\.0\.0\.1:4173\/?$/)
  expect(await page.evaluate(() => window.__CHATR_FAKE__.opened)).toEqual([])
})

test('a link opens in the system browser, never in the webview', async ({ page }) => {
  await openRust(page)
  const link = page.getByTestId('message').getByRole('link', { name: 'https://blog.rust-lang.org' })
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer')
  await link.click()
  await expect
    .poll(() => page.evaluate(() => window.__CHATR_FAKE__.opened))
    .toEqual(['https://blog.rust-lang.org'])
  expect(page.url()).toMatch(/^http:\/\/127\.0\.0\.1:4173\/?$/)
  expect(page.context().pages()).toHaveLength(1)
})

test('typing: shown for about 5 s; mine sent at most every 3 s', async ({ page }) => {
  await openRust(page)
  await page.evaluate(() => window.__CHATR_FAKE__.typing('rust', 'github:7'))
  await expect(page.getByTestId('typing')).toHaveText('Bob is typing…')
  await page.waitForTimeout(3500)
  await expect(page.getByTestId('typing')).toHaveText('Bob is typing…')
  await expect(page.getByTestId('typing')).toHaveText('', { timeout: 3000 })

  await page.getByTestId('composer').click()
  await page.keyboard.type('abcdefghij', { delay: 50 })
  const typing = () =>
    page.evaluate(() => window.__CHATR_FAKE__.args.filter((a) => a.cmd === 'send_typing').length)
  expect(await typing()).toBe(1)
  await page.waitForTimeout(3000)
  await page.keyboard.type('k')
  expect(await typing()).toBe(2)
})

test('the 4,000-character limit: counter near it, Send disabled above it', async ({ page }) => {
  await openRust(page)
  const composer = page.getByTestId('composer')
  await composer.fill('x'.repeat(3850))
  await expect(page.getByTestId('counter')).toHaveText('150 characters left')
  await composer.fill('x'.repeat(4005))
  await expect(page.getByTestId('counter')).toHaveText('5 characters over the limit')
  await expect(page.getByTestId('send')).toBeDisabled()
  await composer.press('Enter')
  await expect(composer).toHaveValue('x'.repeat(4005))
})

test('new messages from others are announced to screen readers', async ({ page }) => {
  await openRust(page)
  await page.evaluate(() => window.__CHATR_FAKE__.say('rust', 'github:7', 'Lunch?'))
  await expect(page.getByTestId('announcer')).toHaveText('Bob: Lunch?')
  await expect(page.getByTestId('message').last()).toContainText('Lunch?')
})

test('a 10,000-message chat scrolls with few rows in the DOM, loading pages as it goes', async ({
  page,
}) => {
  await openSignedIn(page, {
    bigChat: { id: 'big', name: 'Archive', count: 10_000 },
    pageSize: 1000,
  })
  await page.getByTestId('chat-big').click()
  await expect(page.getByTestId('message').last()).toContainText('message 10000')
  const list = page.getByTestId('message-list')
  const counts: number[] = []
  // Scroll up to the very first message, a screen at a time, as a reader would.
  for (let i = 0; i < 2000; i++) {
    const done = await page
      .getByTestId('list-top')
      .filter({ hasText: 'This is the start of the chat.' })
      .isVisible()
    if (done) break
    await list.evaluate((el) => el.scrollBy(0, -2000))
    await page.waitForTimeout(10)
    counts.push(await page.getByTestId('message').count())
  }
  await expect(page.getByTestId('message').first()).toContainText('message 1', { timeout: 10_000 })
  const pages = await page.evaluate(
    () =>
      window.__CHATR_FAKE__.args.filter((a) => a.cmd === 'load_history' && a.args.chatId === 'big')
        .length,
  )
  expect(pages).toBeGreaterThanOrEqual(10)
  console.log(`10,000 messages: at most ${Math.max(...counts)} message rows in the DOM`)
  expect(Math.max(...counts)).toBeLessThan(200)
  expect(counts.length).toBeGreaterThan(20)
  // And back to the newest.
  await list.evaluate((el) => el.scrollTo(0, el.scrollHeight))
  await expect(page.getByTestId('message').last()).toContainText('message 10000')
  expect(await page.getByTestId('message').count()).toBeLessThan(200)
})
