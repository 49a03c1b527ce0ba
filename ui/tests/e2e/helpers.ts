// Shared set-up for the Playwright specs: open the built UI with a fake backend scenario, and
// the people and chats the flows use.
import { expect, type Page } from '@playwright/test'
import { MOCK_BUNDLE } from './global-setup'
import type { MockScenario } from './ipc-mock'
import type { User } from '../../src/types'

export const appStatus = {
  appVersion: '0.1.0',
  backendUrl: 'http://127.0.0.1:43210',
  backendMode: 'embedded',
  backend: { status: 'ok', service: 'chatr-backend', version: '0.1.0' },
} as const

export const ada: User = { id: 'local:ada', name: 'Ada', provider: 'local', presence: 'online' }
export const bob: User = { id: 'github:7', name: 'Bob', provider: 'github', presence: 'online' }
export const cy: User = { id: 'microsoft:9', name: 'Cy', provider: 'microsoft', presence: 'idle' }
export const dee: User = { id: 'oidc:3', name: 'Dee', provider: 'oidc', presence: 'offline' }

export const SCREENSHOTS = 'test-results/screenshots'

/** A signed-in Ada with two people and two group chats, one of them open with a few messages. */
export function signedInScenario(extra: Partial<MockScenario> = {}): MockScenario {
  const now = Date.now()
  return {
    appStatus,
    restore: ada,
    users: [bob, cy, dee],
    chats: [
      {
        id: 'rust',
        name: 'Rustaceans',
        kind: 'group',
        owner: ada.id,
        createdAt: 1,
        members: [ada.id, bob.id],
      },
      {
        id: 'lunch',
        name: 'Lunch plans',
        kind: 'group',
        owner: bob.id,
        createdAt: 2,
        members: [bob.id],
      },
    ],
    messages: {
      rust: [
        {
          from: bob.id,
          text: 'Morning! Anyone tried the **new** borrow checker?',
          sentAt: now - 26 * 3600_000,
        },
        { from: ada.id, text: 'Yes, `cargo check` is *fast* now.', sentAt: now - 25 * 3600_000 },
        {
          from: bob.id,
          text: 'Release notes: https://blog.rust-lang.org',
          sentAt: now - 20 * 60_000,
        },
        { from: bob.id, text: 'Lists work too:\n- one\n- two', sentAt: now - 19 * 60_000 },
        { from: ada.id, text: 'Nice, thanks Bob!', sentAt: now - 5 * 60_000 },
      ],
    },
    ...extra,
  }
}

/** Saves a screenshot once transitions have finished (a theme switch fades colours). */
export async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.waitForTimeout(400)
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage, animations: 'disabled' })
}

/** Opens the app with `scenario`; `dialogs` collects any alert/confirm the page raises. */
export async function openWith(page: Page, scenario: MockScenario): Promise<string[]> {
  const dialogs: string[] = []
  page.on('dialog', async (d) => {
    dialogs.push(d.message())
    await d.dismiss()
  })
  await page.addInitScript((s) => {
    window.__CHATR_MOCK__ = s
  }, scenario)
  await page.addInitScript({ path: MOCK_BUNDLE })
  await page.goto('/')
  return dialogs
}

/** Opens the app signed in as Ada and waits for the lists. */
export async function openSignedIn(
  page: Page,
  extra: Partial<MockScenario> = {},
): Promise<string[]> {
  const dialogs = await openWith(page, signedInScenario(extra))
  await expect(page.getByTestId('user-list')).toContainText('Ada')
  return dialogs
}

/** The texts of the message rows in the DOM, in order. */
export async function messageTexts(page: Page): Promise<string[]> {
  return page.getByTestId('message').allInnerTexts()
}
