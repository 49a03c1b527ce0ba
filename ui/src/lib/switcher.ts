// The Ctrl+K chat switcher's filtering and selection. No Vue, no IPC.

export interface SwitcherItem {
  id: string
  name: string
}

/** A chat as the switcher lists it. */
export interface SwitcherChat extends SwitcherItem {
  unread: number
  /** Open, private, or "Join". */
  hint: string
}

/** Items whose name contains the query (case-insensitive); names starting with it first. */
export function filterItems<T extends SwitcherItem>(items: readonly T[], query: string): T[] {
  const q = query.trim().toLocaleLowerCase()
  if (!q) return [...items]
  const starts: T[] = []
  const contains: T[] = []
  for (const item of items) {
    const name = item.name.toLocaleLowerCase()
    if (name.startsWith(q)) starts.push(item)
    else if (name.includes(q)) contains.push(item)
  }
  return [...starts, ...contains]
}

/** Moves a selection by `delta`, wrapping around; -1 when the list is empty. */
export function moveSelection(index: number, delta: number, length: number): number {
  if (length === 0) return -1
  return (((index + delta) % length) + length) % length
}
