// Two real app instances on one machine, each with its own data folder, with nothing else
// installed: the first runs the embedded backend, the second joins it. They sign in locally, see
// each other online, chat (both see every message once, in order), one goes idle through the OS
// (no input) and the other sees it, one opens a private chat and the other gets the popup and an
// OS notification (a Notify call on D-Bus), one quits and the other sees it offline.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { By, until } from 'selenium-webdriver'
import { launchApp, saveScreenshot } from './support/app.js'

let ada
let bob
const home = mkdtempSync(join(tmpdir(), 'chatr-two-'))

async function signIn(driver, name) {
  const input = await driver.wait(until.elementLocated(By.id('sign-in-name')), 30_000)
  await driver.wait(until.elementIsEnabled(input), 10_000)
  await input.click()
  await input.sendKeys(name)
  await driver.findElement(By.css('[data-testid=sign-in] button[type=submit]')).click()
  await driver.wait(until.elementLocated(By.css('[data-testid=user-list]')), 20_000)
}

/** The presence the user list shows for `name`, or null while they are not listed. */
async function presenceOf(driver, name) {
  for (const item of await driver.findElements(By.css('[data-testid=user-list] li'))) {
    if ((await item.getText()).includes(name)) return item.getAttribute('data-presence')
  }
  return null
}

async function waitForPresence(driver, name, presence, timeout = 20_000) {
  await driver.wait(
    async () => (await presenceOf(driver, name)) === presence,
    timeout,
    `${name} never showed as ${presence}`,
  )
}

/** The texts of the messages on screen, in order. */
async function messageTexts(driver) {
  const lines = await driver.findElements(By.css('[data-testid=message]'))
  return Promise.all(lines.map((l) => l.getText()))
}

async function send(driver, text) {
  const composer = await driver.findElement(By.css('[data-testid=composer]'))
  await composer.sendKeys(text)
  await driver.findElement(By.css('[data-testid=send]')).click()
}

/** What `dbus-monitor` printed of calls to the notification service on this session bus. */
const notifications = []
let monitor

async function waitFor(condition, timeout, message) {
  const deadline = Date.now() + timeout
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(message)
    await new Promise((r) => setTimeout(r, 100))
  }
}

before(async () => {
  // The test runs in its own session bus (dbus-run-session); watch every Notify call on it.
  monitor = spawn('dbus-monitor', ["interface='org.freedesktop.Notifications',member='Notify'"])
  monitor.stdout.on('data', (d) => notifications.push(d.toString()))
  // Ada idles after 3 s without input; Bob practically never, so only Ada's idleness shows.
  ada = await launchApp({
    name: 'two-people-ada',
    args: [`--data-dir=${join(home, 'ada')}`, '--idle-seconds=3'],
  })
  await signIn(ada.driver, 'Ada')
  bob = await launchApp({
    name: 'two-people-bob',
    args: [`--data-dir=${join(home, 'bob')}`, '--idle-seconds=3600'],
  })
  await signIn(bob.driver, 'Bob')
})

after(async () => {
  await bob?.stop()
  await ada?.stop()
  monitor?.kill()
})

test('each sees the other online', async () => {
  await waitForPresence(ada.driver, 'Bob', 'online')
  // Ada's app follows the OS: after 3 s without input she is idle (her first report arrives as
  // soon as she connects), so keep the pointer moving until Bob sees her active.
  const nudge = setInterval(
    () => execFileSync('xdotool', ['mousemove_relative', '--', '1', '1']),
    300,
  )
  try {
    await waitForPresence(bob.driver, 'Ada', 'online')
  } finally {
    clearInterval(nudge)
  }
})

test('a chat one creates, the other joins, and both see every message once, in order', async () => {
  await ada.driver.findElement(By.css('[data-testid=open-new-chat]')).click()
  const nameField = await ada.driver.wait(
    until.elementLocated(By.css('[data-testid=new-chat-name]')),
    5_000,
  )
  await nameField.sendKeys('Plans')
  await ada.driver.findElement(By.css('[data-testid=new-chat]')).click()
  await ada.driver.wait(until.elementLocated(By.css('[data-testid=message-pane]')), 10_000)

  const link = await bob.driver.wait(
    until.elementLocated(By.xpath("//*[@data-testid='chat-list']//a[contains(., 'Plans')]")),
    20_000,
  )
  await link.click()
  await bob.driver.wait(until.elementLocated(By.css('[data-testid=message-pane]')), 10_000)

  const script = [
    [ada, 'Hello Bob'],
    [bob, 'Hi Ada'],
    [ada, 'Lunch at one?'],
    [bob, 'Yes **please**'],
  ]
  for (const [who, text] of script) await send(who.driver, text)
  // Markdown is rendered: the asterisks make bold, they are not shown.
  const expected = script.map(([, text]) => text.replace(/\*\*/g, ''))
  for (const who of [ada, bob]) {
    await who.driver.wait(
      async () => (await messageTexts(who.driver)).length >= expected.length,
      20_000,
      'not every message arrived',
    )
    const texts = await messageTexts(who.driver)
    assert.equal(texts.length, expected.length, `each message once: ${JSON.stringify(texts)}`)
    expected.forEach((text, i) => assert.ok(texts[i].includes(text), `${texts[i]} ≠ ${text}`))
  }
  await saveScreenshot(ada.driver, 'two-people-ada')
  await saveScreenshot(bob.driver, 'two-people-bob')
})

test('Bob opens a private chat: Ada gets the popup and an OS notification', async () => {
  const link = await bob.driver.wait(
    until.elementLocated(By.xpath("//*[@data-testid='user-list']//a[contains(., 'Ada')]")),
    10_000,
  )
  await link.click()
  await bob.driver.wait(until.elementLocated(By.css('[data-testid=message-pane]')), 10_000)

  const invite = await ada.driver.wait(
    until.elementLocated(By.css('[data-testid=invite]')),
    20_000,
    'Ada never saw the private-chat popup',
  )
  await ada.driver.wait(until.elementTextContains(invite, 'Bob'), 5_000)
  // The Notify call on the session bus, from Ada's app (Bob's own app asked, so it does not).
  await waitFor(
    () => notifications.join('').includes('Bob'),
    20_000,
    `no Notify call naming Bob on D-Bus:\n${notifications.join('')}`,
  )
  const calls = notifications.join('')
  assert.match(calls, /member=Notify/)
  assert.match(calls, /string "Chatr"/)
  await saveScreenshot(ada.driver, 'two-people-invite')
  await ada.driver.findElement(By.css('[data-testid=invite-open]')).click()
  await ada.driver.wait(until.elementLocated(By.css('[data-testid=message-pane]')), 10_000)
})

test('Ada goes idle through the OS and Bob sees it', async () => {
  // Nobody touches the X server: after 3 s Ada's app reports her idle.
  await waitForPresence(bob.driver, 'Ada', 'idle', 30_000)
  assert.equal(await presenceOf(bob.driver, 'Bob'), 'online', 'Bob is not idle')
})

test('Bob quits and Ada sees him offline', async () => {
  // Quit the way the OS asks an app to (logout, `kill`): SIGTERM. The app closes its session
  // cleanly, so Ada sees Bob leave after the short offline grace, not after the resume window.
  const pid = execFileSync('pgrep', ['-f', '--', `--data-dir=${join(home, 'bob')}`])
    .toString()
    .trim()
  process.kill(Number(pid.split('\n')[0]), 'SIGTERM')
  await waitForPresence(ada.driver, 'Bob', 'offline', 20_000)
  await bob.stop()
  bob = null
})
