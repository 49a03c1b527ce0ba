// Sign-in in Chromium against the fake backend: the views, local and device sign-in, errors,
// remembered accounts, a restored session that never flashes the form, and sign-out.
import { expect, test } from '@playwright/test'
import { ada, appStatus, openWith, shot } from './helpers'

const providers = [
  { name: 'local', kind: 'local' as const, label: 'This computer' },
  { name: 'github', kind: 'github' as const, label: 'GitHub' },
  { name: 'microsoft', kind: 'microsoft' as const, label: 'Microsoft' },
  { name: 'keycloak', kind: 'oidc' as const, label: 'Keycloak' },
]

test('the sign-in view offers the local name, the providers and remembered accounts', async ({
  page,
}) => {
  await openWith(page, {
    appStatus,
    providers,
    accounts: [
      { id: 'a1', userId: 'github:1', name: 'Octo', provider: 'github', server: 's', lastUsed: 1 },
    ],
  })
  await expect(page.getByLabel('Your name')).toBeVisible()
  for (const label of ['GitHub', 'Microsoft', 'Keycloak'])
    await expect(page.getByRole('button', { name: label, exact: true })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Continue as Octo (GitHub)' })).toBeVisible()
  await shot(page, 'sign-in', true)
})

test('local sign-in with a name', async ({ page }) => {
  await openWith(page, { appStatus })
  await page.getByLabel('Your name').fill('  Grace  ')
  await page.locator('[data-testid=sign-in] button[type=submit]').click()
  await expect(page.getByTestId('user-list')).toContainText('Grace')
  await expect(page.getByTestId('signed-in-as')).toHaveText('Signed in as Grace')
  const args = await page.evaluate(
    () => window.__CHATR_FAKE__.args.find((a) => a.cmd === 'sign_in_local')?.args,
  )
  expect(args).toEqual({ name: 'Grace' })
})

test('device sign-in: the code, copy, open in browser, waiting, approval', async ({
  page,
  context,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'])
  await openWith(page, { appStatus, providers })
  await page.getByRole('button', { name: 'GitHub', exact: true }).click()
  const code = page.getByTestId('user-code')
  await expect(code).toHaveText('WDJB-MJHT')
  expect(await code.evaluate((el) => parseFloat(getComputedStyle(el).fontSize))).toBeGreaterThan(32)
  await expect(
    page.getByRole('status').filter({ hasText: 'Waiting for you to approve' }),
  ).toBeVisible()
  await expect(page.getByTestId('open-browser')).toBeFocused()
  await shot(page, 'device-code', true)

  await page.getByTestId('copy-code').click()
  await expect(page.getByTestId('copy-code')).toHaveText('Copied')
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('WDJB-MJHT')

  await page.getByTestId('open-browser').click()
  await expect
    .poll(() => page.evaluate(() => window.__CHATR_FAKE__.opened))
    .toEqual(['https://github.com/login/device?user_code=WDJB-MJHT'])
  expect(page.url()).toMatch(/^http:\/\/127\.0\.0\.1:4173\/?$/)

  await page.evaluate(() => window.__CHATR_FAKE__.approveDevice())
  await expect(page.getByTestId('signed-in-as')).toHaveText('Signed in as Octo Cat')
})

for (const [outcome, text] of [
  ['expired', 'The code expired before it was approved'],
  ['denied', 'Sign-in was refused at the provider'],
  ['offline', 'Cannot reach the sign-in service'],
] as const) {
  test(`device sign-in that ends ${outcome} says so`, async ({ page }) => {
    await openWith(page, { appStatus, providers, device: { outcome, afterMs: 200 } })
    await page.getByRole('button', { name: 'Microsoft' }).click()
    await expect(page.getByTestId('user-code')).toBeVisible()
    await expect(page.getByTestId('sign-in-notice')).toContainText(text)
    await expect(page.getByTestId('user-code')).toHaveCount(0)
    await expect(page.getByRole('button', { name: 'Microsoft' })).toBeEnabled()
  })
}

test('cancelling a device sign-in goes back to the choices', async ({ page }) => {
  await openWith(page, { appStatus, providers })
  await page.getByRole('button', { name: 'Keycloak' }).click()
  await page.getByTestId('cancel-device').click()
  await expect(page.getByTestId('sign-in-notice')).toHaveText('Sign-in cancelled.')
  await expect(page.getByRole('button', { name: 'Keycloak' })).toBeVisible()
})

test('a remembered account signs in silently', async ({ page }) => {
  await openWith(page, {
    appStatus,
    accounts: [
      { id: 'a1', userId: 'github:1', name: 'Octo', provider: 'github', server: 's', lastUsed: 1 },
    ],
  })
  await page.getByRole('button', { name: 'Continue as Octo (GitHub)' }).click()
  await expect(page.getByTestId('signed-in-as')).toHaveText('Signed in as Octo')
})

test('a restored session shows "Signing in…" and never the sign-in form', async ({ page }) => {
  // Record whether the name field is ever put in the page, from the very first render.
  await page.addInitScript(() => {
    ;(window as unknown as { __formSeen: boolean }).__formSeen = false
    new MutationObserver(() => {
      if (document.getElementById('sign-in-name'))
        (window as unknown as { __formSeen: boolean }).__formSeen = true
    }).observe(document, { childList: true, subtree: true })
  })
  await openWith(page, { appStatus, restore: ada, restoreDelayMs: 400 })
  await expect(page.getByTestId('restoring')).toHaveText('Signing in…')
  await expect(page.getByTestId('user-list')).toContainText('Ada')
  expect(await page.evaluate(() => (window as unknown as { __formSeen: boolean }).__formSeen)).toBe(
    false,
  )
})

test('Rust ending the session goes back to sign-in with the reason', async ({ page }) => {
  await openWith(page, { appStatus, restore: ada })
  await expect(page.getByTestId('user-list')).toBeVisible()
  await page.evaluate(() =>
    window.__CHATR_FAKE__.emit({ type: 'signedOut', data: { reason: 'signed out from the tray' } }),
  )
  await expect(page.getByTestId('sign-in-notice')).toHaveText(
    'You were signed out: signed out from the tray',
  )
  await expect(page.getByLabel('Your name')).toBeVisible()
})
