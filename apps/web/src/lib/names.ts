/** The name the user sees for a contact: their remark (备注) if they gave one, else the card's. */
export function shownName(c: { readonly name: string; readonly remark?: string | undefined }): string {
  return c.remark ?? c.name
}

/** Whether a contact's remark or card name contains `query` (case-insensitive), for search boxes. */
export function nameMatches(
  c: { readonly name: string; readonly remark?: string | undefined },
  query: string,
): boolean {
  const q = query.trim().toLowerCase()
  if (q === '') return true
  return c.name.toLowerCase().includes(q) || (c.remark?.toLowerCase().includes(q) ?? false)
}
