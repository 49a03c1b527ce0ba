// The real app under Xvfb: the window opens, the UI calls Rust (`get_app_status`), Rust asks the
// embedded backend over HTTP, and the answer reaches the page.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { By, until } from 'selenium-webdriver'
import { launchApp, saveScreenshot } from './support/app.js'

let app

before(async () => {
  // No server configured: the app must start its embedded backend.
  app = await launchApp({ env: { CHATR_SERVER_URL: '' } })
})

after(async () => {
  await app?.stop()
})

test('the window shows the Chatr shell', async () => {
  const { driver } = app
  const name = await driver.wait(until.elementLocated(By.css('[data-testid=app-name]')), 20_000)
  assert.equal(await name.getText(), 'Chatr')
  assert.equal(await driver.getTitle(), 'Chatr')
})

test('the status line shows the embedded backend answering over HTTP', async () => {
  const { driver } = app
  const status = await driver.wait(
    until.elementLocated(By.css('[data-testid=status-line][data-state=ready]')),
    20_000,
    'the status line never reached the ready state',
  )
  const text = await status.getText()
  assert.match(
    text,
    /Embedded backend at http:\/\/127\.0\.0\.1:\d+ is up \(chatr-backend \d+\.\d+\.\d+\)/,
  )
  assert.match(text, /Chatr \d+\.\d+\.\d+/)
  await saveScreenshot(driver, 'app-shell')
})
