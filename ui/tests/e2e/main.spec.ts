// The main view in Chromium against the fake backend: lists, tabs, unread counts, creating,
// deleting, leaving, private chats, toasts, the banner, settings and theme, keyboard and dialogs.
import { expect, test } from '@playwright/test'
import { ada, bob, cy, openSignedIn, shot } from './helpers'

test.use({ viewport: { width: 1100, height: 760 } })

test('main view in light and dark mode', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' })
  await openSignedIn(page)
  await page.getByTestId('tab-rust').click()
  await expect(page.getByTestId('message').last()).toContainText('Nice, thanks Bob!')
  await page.evaluate(() => window.__CHATR_FAKE__.typing('rust', 'github:7'))
  await page.evaluate(() => window.__CHATR_FAKE__.say('lunch', 'github:7', 'x'))
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light')
  await shot(page, 'main-light')

  // "System" follows the OS: switch the OS to dark.
  await page.emulateMedia({ colorScheme: 'dark' })
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark')
  await page.evaluate(() => window.__CHATR_FAKE__.typing('rust', 'github:7'))
  const pane = await page
    .getByTestId('message-list')
    .evaluate((el) => getComputedStyle(el).backgroundColor)
  expect(pane).not.toBe('rgb(238, 238, 238)')
  await shot(page, 'main-dark')
})

test('people show presence and provider, me first and highlighted', async ({ page }) => {
  await openSignedIn(page)
  const rows = page.getByTestId('user-list').locator('li')
  await expect(rows).toHaveCount(4)
  await expect(rows.first()).toContainText('Ada')
  await expect(rows.first()).toContainText('(you)')
  expect(await rows.evaluateAll((li) => li.map((l) => l.getAttribute('data-presence')))).toEqual([
    'online',
    'online',
    'idle',
    'offline',
  ])
  await expect(page.locator(`[data-user="${bob.id}"]`)).toContainText('GitHub')
  await expect(page.locator(`[data-user="${cy.id}"]`)).toContainText('Microsoft')
})

test('create a chat: the dialog validates, then the chat opens', async ({ page }) => {
  await openSignedIn(page)
  await page.getByTestId('open-new-chat').click()
  const dialog = page.getByRole('dialog', { name: 'New chat' })
  await expect(dialog).toBeVisible()
  await expect(page.getByTestId('new-chat-name')).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(dialog).toContainText('A chat needs a name.')
  await page.getByTestId('new-chat-name').fill('x'.repeat(51))
  await expect(dialog).toContainText('at most 50 characters')
  await expect(page.getByTestId('new-chat')).toBeDisabled()
  await page.getByTestId('new-chat-name').fill('  Kotlin fans  ')
  await page.getByTestId('new-chat').click()
  await expect(dialog).toHaveCount(0)
  await expect(page.getByTestId('message-pane').locator('h2')).toHaveText('Kotlin fans')
  await expect(page.getByTestId('chat-list').getByText('Kotlin fans')).toHaveCount(1)
  await expect(page.getByTestId('composer')).toBeFocused()
})

test('delete is offered to the owner only and asks first', async ({ page }) => {
  await openSignedIn(page)
  await expect(page.getByTestId('delete-lunch')).toHaveCount(0)
  await page.getByTestId('delete-rust').click()
  const dialog = page.getByRole('dialog', { name: 'Delete chat' })
  await expect(dialog).toContainText('Delete “Rustaceans”?')
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
  await expect(page.getByTestId('delete-rust')).toBeFocused()
  await page.getByTestId('delete-rust').click()
  await page.getByTestId('confirm-delete').click()
  await expect(page.getByTestId('chat-rust')).toHaveCount(0)
  await expect(page.getByTestId('tab-rust')).toHaveCount(0)
})

test('tabs: unread counts, joining, leaving, set_active_chat', async ({ page }) => {
  await openSignedIn(page)
  await expect(page.getByRole('tablist')).toBeVisible()
  await page.getByTestId('chat-lunch').click()
  await expect(page.getByRole('tab', { name: /Lunch plans/ })).toHaveAttribute(
    'aria-selected',
    'true',
  )
  await page.evaluate(() => {
    window.__CHATR_FAKE__.say('rust', 'github:7', 'one')
    window.__CHATR_FAKE__.say('rust', 'github:7', 'two')
    window.__CHATR_FAKE__.say('rust', 'github:7', 'three')
  })
  await expect(page.getByTestId('tab-rust').getByTestId('unread')).toHaveText('3')
  await page.getByTestId('tab-rust').click()
  await expect(page.getByTestId('tab-rust').getByTestId('unread')).toHaveCount(0)
  await page.getByTestId('close-rust').click()
  await expect(page.getByTestId('tab-rust')).toHaveCount(0)
  await page.getByTestId('close-lunch').click()
  await expect(page.getByTestId('pick-one')).toBeVisible()
  const active = await page.evaluate(() =>
    window.__CHATR_FAKE__.args.filter((a) => a.cmd === 'set_active_chat').map((a) => a.args.chatId),
  )
  expect(active).toEqual(['lunch', 'rust', 'lunch', null])
})

test('private chats: start from the people list; an incoming one pops up', async ({ page }) => {
  await openSignedIn(page)
  await page.locator(`[data-user="${bob.id}"] a`).click()
  const id = `private:${[ada.id, bob.id].sort().join('+')}`
  await expect(page.getByTestId(`tab-${id}`)).toHaveAttribute('aria-selected', 'true')

  await page.evaluate(() =>
    window.__CHATR_FAKE__.userJoins({
      id: 'local:eve',
      name: 'Eve',
      provider: 'local',
      presence: 'online',
    }),
  )
  await page.getByTestId('composer').fill('typing here')
  await page.evaluate(() => window.__CHATR_FAKE__.invite('local:eve'))
  const popup = page.getByTestId('invite')
  await expect(popup).toContainText('💬 Incoming: Chat with Eve')
  await expect(page.getByTestId('composer')).toBeFocused()
  await popup.getByRole('button', { name: 'Open' }).click()
  await expect(page.getByTestId('message-pane').locator('h2')).toHaveText('Eve')
  await expect(page.getByTestId('system-line')).toHaveText('💬 Eve wants to chat')
})

test('toasts for others joining, idling, leaving and a deleted chat; none about me', async ({
  page,
}) => {
  await openSignedIn(page)
  await page.getByTestId('tab-rust').click()
  await page.evaluate(() => {
    const f = window.__CHATR_FAKE__
    f.presence('github:7', 'idle')
    f.server({ chatEvent: 'userIsIdle', data: { userId: 'local:ada' } })
    f.presence('github:7', 'offline')
  })
  const toasts = page.getByTestId('toast')
  await expect(toasts).toHaveText(['💤 User Bob is now idle', '💨 Bob has left or logged off'])
  await expect(page.locator(`[data-user="${bob.id}"]`)).toHaveAttribute('data-presence', 'offline')
  await page.evaluate(() => window.__CHATR_FAKE__.deleteByOwner('lunch'))
  await expect(page.getByTestId('chat-lunch')).toHaveCount(0)
  // Rustaceans is mine and was deleted by nobody: only chats I was in and did not own toast.
  await expect(toasts.filter({ hasText: 'Chat deleted' })).toHaveCount(0)
})

test('the connection banner follows the connection', async ({ page }) => {
  await openSignedIn(page)
  const banner = page.getByTestId('connection-banner')
  await expect(banner).toHaveCount(0)
  await page.evaluate(() => window.__CHATR_FAKE__.connection('reconnecting', '2'))
  await expect(banner).toContainText('Connection lost, reconnecting (attempt 2)…')
  await page.evaluate(() => window.__CHATR_FAKE__.connection('closed', 'network unreachable'))
  await expect(banner).toContainText('Offline (network unreachable)')
  await page.evaluate(() => window.__CHATR_FAKE__.connection('connected'))
  await expect(banner).toHaveCount(0)
})

test('an error shows in the notice and the view stays', async ({ page }) => {
  await openSignedIn(page)
  await page.evaluate(() => {
    window.__CHATR_FAKE__.chats = window.__CHATR_FAKE__.chats.filter((c) => c.id !== 'lunch')
  })
  await page.getByTestId('chat-lunch').click()
  await expect(page.getByTestId('error-notice')).toContainText('no such chat')
  await expect(page.getByTestId('user-list')).toBeVisible()
  await page.getByTestId('error-notice').getByRole('button', { name: 'Dismiss' }).click()
  await expect(page.getByTestId('error-notice')).toHaveCount(0)
})

test('settings: validation, restart notice, theme', async ({ page }) => {
  await openSignedIn(page, { settings: { theme: 'system' } })
  await page.getByTestId('open-settings').click()
  const dialog = page.getByRole('dialog', { name: 'Settings' })
  await expect(dialog).toBeVisible()
  await page.getByTestId('server-remote').check()
  await page.getByTestId('server-url').fill('javascript:alert(1)')
  await expect(dialog).toContainText('Enter an http:// or https:// address.')
  await expect(page.getByTestId('save-settings')).toBeDisabled()
  await page.getByTestId('server-url').fill('https://chat.example.com')
  await page.getByTestId('idle-secs').fill('90')
  await page.getByTestId('theme').selectOption('dark')
  await shot(page, 'settings')
  await page.getByTestId('save-settings').click()
  await expect(page.getByTestId('settings-result')).toHaveText(
    'Restart Chatr to use the new server.',
  )
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark')
  const saved = await page.evaluate(() => window.__CHATR_FAKE__.settings)
  expect(saved).toMatchObject({
    serverUrl: 'https://chat.example.com',
    idleThresholdSecs: 90,
    theme: 'dark',
  })
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
})

test('sign out, forgetting the account', async ({ page }) => {
  await openSignedIn(page)
  await page.getByTestId('open-settings').click()
  await page.getByTestId('forget').check()
  await page.getByTestId('sign-out').click()
  await expect(page.getByLabel('Your name')).toBeVisible()
  const args = await page.evaluate(
    () => window.__CHATR_FAKE__.args.find((a) => a.cmd === 'sign_out')?.args,
  )
  expect(args).toEqual({ forget: true })
})

test('Ctrl+K switcher: filter, arrows, Enter; focus trapped; Escape closes', async ({ page }) => {
  await openSignedIn(page)
  await page.getByTestId('tab-rust').click()
  await page.keyboard.press('Control+k')
  const dialog = page.getByRole('dialog', { name: 'Switch chat' })
  await expect(dialog).toBeVisible()
  await expect(dialog).toHaveAttribute('aria-modal', 'true')
  await expect(page.getByTestId('switcher-filter')).toBeFocused()
  await expect(page.getByRole('option')).toHaveCount(2)
  await shot(page, 'switcher')
  for (let i = 0; i < 6; i++) await page.keyboard.press('Tab')
  expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true)
  await page.getByTestId('switcher-filter').focus()
  await page.keyboard.type('lun')
  await expect(page.getByRole('option')).toHaveText([/Lunch plans/])
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Enter')
  await expect(dialog).toHaveCount(0)
  await expect(page.getByRole('tab', { name: /Lunch plans/ })).toHaveAttribute(
    'aria-selected',
    'true',
  )

  await page.keyboard.press('Control+k')
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
})

test('? lists the shortcuts, but typing ? in a message does not', async ({ page }) => {
  await openSignedIn(page)
  await page.getByTestId('tab-rust').click()
  await page.getByTestId('composer').click()
  await page.keyboard.type('why?')
  await expect(page.getByTestId('shortcuts')).toHaveCount(0)
  await expect(page.getByTestId('composer')).toHaveValue('why?')
  await page.getByTestId('message-list').focus()
  await page.keyboard.press('?')
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible()
  await page.keyboard.press('Escape')
  await expect(page.getByRole('dialog')).toHaveCount(0)
})

test('focus is visible on keyboard navigation', async ({ page }) => {
  await openSignedIn(page)
  await page.getByTestId('tab-rust').focus()
  await page.keyboard.press('ArrowRight')
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)
  expect(outline).toBe('solid')
})

test('two people with the same name are told apart in the people list', async ({ page }) => {
  await openSignedIn(page)
  const list = page.getByTestId('user-list')
  await expect(list.locator(`[data-user="${bob.id}"] .user-name`)).toHaveText('Bob')
  // Someone signs in as "bob": both now carry provider and the end of their id.
  await page.evaluate(() =>
    window.__CHATR_FAKE__.userJoins({
      id: 'local:f00d1234',
      name: 'bob',
      provider: 'local',
      presence: 'online',
    }),
  )
  const real = list.locator(`[data-user="${bob.id}"] .user-name`)
  const other = list.locator('[data-user="local:f00d1234"] .user-name')
  await expect(real).toHaveText('Bob · github·7')
  await expect(other).toHaveText('bob · local·1234')
  await expect(real).toHaveAttribute('title', 'Bob — GitHub, github:7')
  await expect(other).toHaveAttribute('title', 'bob — This computer, local:f00d1234')
  await expect(list.locator(`[data-user="${bob.id}"] a`)).toHaveAttribute(
    'aria-label',
    /Bob · github·7/,
  )
})
