// Measures the real app (not a test: it prints figures). Run by `scripts/measure-app`, under a
// virtual display and a session bus. Three figures:
//   1. cold start: from asking WebDriver for the app to its first screen (the sign-in form);
//   2. restart to the chat list: a second start of the same profile signs in silently (refresh
//      token in the keyring) and shows the chat list — the time a returning user waits;
//   3. idle PSS of the app and its WebKit processes, 10 s after opening a chat of 10,000 messages.
// WebDriver's own start-up is inside figures 1 and 2, so they are upper bounds.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { By, until } from 'selenium-webdriver'
import { launchApp } from '../tests/support/app.js'

const MESSAGES = Number(process.env.CHATR_MEASURE_MESSAGES ?? 10_000)
const home = mkdtempSync(join(tmpdir(), 'chatr-measure-'))
const dataDir = join(home, 'profile')
const args = [`--data-dir=${dataDir}`, '--idle-seconds=3600']

/** Proportional set size (kB) of a process and all its descendants, each listed in `parts`. */
function pssOfTree(pid, parts = []) {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
  const pss = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0)
  parts.push([readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), pss])
  let total = pss
  let children = ''
  try {
    children = execFileSync('pgrep', ['-P', String(pid)]).toString()
  } catch {
    // no children
  }
  for (const child of children.split('\n').filter(Boolean)) {
    total += pssOfTree(Number(child), parts)
  }
  return total
}

function appPid() {
  const out = execFileSync('pgrep', ['-f', '--', `--data-dir=${dataDir}`]).toString()
  return Number(out.trim().split('\n')[0])
}

function quit() {
  // The way the OS quits an app; the app closes its session and backend cleanly.
  process.kill(appPid(), 'SIGTERM')
}

async function waitGone() {
  for (let i = 0; i < 100; i++) {
    try {
      appPid()
    } catch {
      return
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('the app did not quit')
}

// 1. Cold start to the sign-in form.
let started = performance.now()
let app = await launchApp({ name: 'measure-first', args })
const input = await app.driver.wait(until.elementLocated(By.id('sign-in-name')), 30_000)
const coldStartMs = performance.now() - started
await app.driver.wait(until.elementIsEnabled(input), 10_000)
await input.sendKeys('Ada')
await app.driver.findElement(By.css('[data-testid=sign-in] button[type=submit]')).click()
await (
  await app.driver.wait(until.elementLocated(By.css('[data-testid=open-new-chat]')), 20_000)
).click()
const nameField = await app.driver.wait(
  until.elementLocated(By.css('[data-testid=new-chat-name]')),
  5_000,
)
await nameField.sendKeys('Archive')
await app.driver.findElement(By.css('[data-testid=new-chat]')).click()
await app.driver.wait(until.elementLocated(By.css('[data-testid=message-pane]')), 10_000)
quit()
await waitGone()
await app.stop()

// A long history, written straight into the profile's database while the app is closed.
execFileSync('python3', [
  '-c',
  `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
chat, owner = db.execute("SELECT id, owner FROM chats WHERE name = 'Archive'").fetchone()
rows = [(chat, i, owner, f"message {i}: " + "lorem ipsum dolor sit amet " * 3, 1_700_000_000_000 + i * 60_000, f"seed-{i}")
        for i in range(1, int(sys.argv[2]) + 1)]
db.executemany("INSERT INTO messages (chat_id, seq, sender, text, sent_at, client_key) VALUES (?, ?, ?, ?, ?, ?)", rows)
db.commit()
`,
  join(dataDir, 'chatr.db'),
  String(MESSAGES),
])

// 2. Start again: silent sign-in, then the chat list.
started = performance.now()
app = await launchApp({ name: 'measure-second', args })
const chatLink = await app.driver
  .wait(
    until.elementLocated(By.xpath("//*[@data-testid='chat-list']//a[contains(., 'Archive')]")),
    30_000,
    'the restarted app did not show the chat list (no silent sign-in?)',
  )
  .catch(async (err) => {
    await app.stop() // keeps its log and last frame in the artifacts
    throw err
  })
const toChatListMs = performance.now() - started

// 3. Open the long chat, let everything settle, then measure memory.
await chatLink.click()
await app.driver.wait(until.elementLocated(By.css('[data-testid=message]')), 20_000)
await new Promise((r) => setTimeout(r, 10_000))
const parts = []
const pssKb = pssOfTree(appPid(), parts)
quit()
await waitGone()
await app.stop()

const mb = (kb) => (kb / 1024).toFixed(1)
console.log(`cold start to the first screen:           ${coldStartMs.toFixed(0)} ms`)
console.log(
  `restart to the chat list (silent sign-in): ${toChatListMs.toFixed(0)} ms (target < 1000)`,
)
console.log(`idle PSS, app + WebKit, ${MESSAGES} messages:   ${mb(pssKb)} MB (target < 150 MB)`)
for (const [name, kb] of parts) console.log(`  ${name.padEnd(40)} ${mb(kb)} MB`)
