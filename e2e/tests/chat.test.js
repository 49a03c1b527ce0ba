// The real app under Xvfb, on its embedded backend: sign in locally, create a chat, send a
// message, and see it come back stored. Hostile text stays text.
import assert from 'node:assert/strict'
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
    env: {
      CHATR_SERVER_URL: '',
      XDG_DATA_HOME: join(home, 'data'),
      XDG_CONFIG_HOME: join(home, 'config'),
    },
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

  await driver.findElement(By.css('[data-testid=new-chat-name]')).sendKeys('Rustaceans')
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
