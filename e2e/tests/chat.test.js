// The real app under Xvfb, on its embedded backend: sign in locally, create a chat, send a
// message, and see it come back stored. Hostile text stays text.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { By, until } from 'selenium-webdriver'
import { launchApp, saveScreenshot } from './support/app.js'

let app

before(async () => {
  // A data folder of its own, so every run starts with an empty database.
  const home = mkdtempSync(join(tmpdir(), 'chatr-e2e-'))
  app = await launchApp({
    env: { CHATR_SERVER_URL: '' },
    // Idle after 2 s without input, so the test need not wait a minute.
    args: [`--data-dir=${join(home, 'data')}`, '--idle-seconds=2'],
  })
})

after(async () => {
  await app?.stop()
})

test('sign in locally, create a chat and send a message', async () => {
  const { driver } = app
  const nameInput = await driver.wait(until.elementLocated(By.id('sign-in-name')), 20_000)
  await driver.wait(until.elementIsEnabled(nameInput), 10_000)
  await nameInput.click()
  await nameInput.sendKeys('Ada')
  assert.equal(await nameInput.getAttribute('value'), 'Ada')
  await driver.findElement(By.css('[data-testid=sign-in] button[type=submit]')).click()

  const users = await driver.wait(until.elementLocated(By.css('[data-testid=user-list]')), 20_000)
  await driver.wait(until.elementTextContains(users, 'Ada'), 10_000)

  await driver.findElement(By.css('[data-testid=open-new-chat]')).click()
  const nameField = await driver.wait(
    until.elementLocated(By.css('[data-testid=new-chat-name]')),
    5_000,
  )
  await nameField.sendKeys('Rustaceans')
  await driver.findElement(By.css('[data-testid=new-chat]')).click()
  const pane = await driver.wait(until.elementLocated(By.css('[data-testid=message-pane]')), 10_000)
  await driver.wait(until.elementTextContains(pane, 'Rustaceans'), 10_000)

  const hostile = '<img src=x onerror=alert(1)> hello'
  const composer = await driver.findElement(By.css('[data-testid=composer]'))
  await composer.sendKeys(hostile)
  await driver.findElement(By.css('[data-testid=send]')).click()

  const line = await driver.wait(until.elementLocated(By.css('[data-testid=message]')), 10_000)
  await driver.wait(until.elementTextContains(line, 'hello'), 10_000)
  assert.match(await line.getText(), /<img src=x onerror=alert\(1\)> hello/)
  assert.equal((await driver.findElements(By.css('[data-testid=message] img'))).length, 0)
  assert.equal((await driver.findElements(By.css('[data-testid=message]'))).length, 1, 'shown once')
  await saveScreenshot(driver, 'app-chat')
})

test('no input makes the user idle; moving the mouse brings them back', async () => {
  const { driver } = app
  const me = By.css('[data-testid=user-list] li')
  // The X server sees no input from WebDriver's synthetic events: idle comes after 2 s.
  await driver.wait(
    async () => (await driver.findElement(me).getAttribute('data-presence')) === 'idle',
    15_000,
  )
  // A real pointer motion through XTEST, as a person would make.
  execFileSync('xdotool', ['mousemove', '200', '200'])
  execFileSync('xdotool', ['mousemove', '300', '250'])
  await driver.wait(
    async () => (await driver.findElement(me).getAttribute('data-presence')) === 'online',
    15_000,
  )
})
