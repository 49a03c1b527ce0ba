// The built UI in Chromium: the shell renders, asks Rust for the status, and shows the answer.
import { expect, test, type Page } from '@playwright/test'
import { MOCK_BUNDLE } from './global-setup'
import type { MockScenario } from './ipc-mock'

const appStatus = {
  appVersion: '0.1.0',
  backendUrl: 'http://127.0.0.1:43210',
  backendMode: 'embedded',
  backend: { status: 'ok', service: 'chatr-backend', version: '0.1.0' },
} as const

async function openWith(page: Page, scenario: MockScenario): Promise<void> {
  await page.addInitScript((s) => {
    window.__CHATR_MOCK__ = s
  }, scenario)
  await page.addInitScript({ path: MOCK_BUNDLE })
  await page.goto('/')
}

test('shell shows the app name and the backend status from Rust', async ({ page }) => {
  await openWith(page, { appStatus })
  await expect(page.getByTestId('app-name')).toHaveText('Chatr')
  const status = page.getByRole('status')
  await expect(status).toHaveAttribute('data-state', 'ready')
  await expect(status).toContainText('Embedded backend at http://127.0.0.1:43210 is up')
  await expect(page.getByTestId('app-version')).toHaveText('Chatr 0.1.0')
  // The status is asked for exactly once (the other calls are sign-in's and the settings').
  const calls = await page.evaluate(() => window.__CHATR_CALLS__)
  expect(calls.filter((c) => c === 'get_app_status')).toEqual(['get_app_status'])
  await page.screenshot({ path: 'test-results/shell.png', fullPage: true })
})

test('an unreachable backend is reported and Retry asks again', async ({ page }) => {
  await openWith(page, { appStatus, failStatusTimes: 1 })
  const status = page.getByRole('status')
  await expect(status).toHaveAttribute('data-state', 'failed')
  await expect(status).toContainText('Backend unreachable')
  await page.getByRole('button', { name: 'Retry' }).click()
  await expect(status).toHaveAttribute('data-state', 'ready')
  const calls = await page.evaluate(() => window.__CHATR_CALLS__)
  expect(calls.filter((c) => c === 'get_app_status')).toEqual(['get_app_status', 'get_app_status'])
})

test('the page loads nothing from the network but itself', async ({ page }) => {
  const origins = new Set<string>()
  page.on('request', (req) => origins.add(new URL(req.url()).origin))
  await openWith(page, { appStatus })
  await expect(page.getByRole('status')).toHaveAttribute('data-state', 'ready')
  expect([...origins]).toEqual(['http://127.0.0.1:4173'])
})
