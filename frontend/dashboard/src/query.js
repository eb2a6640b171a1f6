// The dashboard's own query string (?community=&grid=&quarter=) → the endpoints' query string,
// and the links of the drill-down (street → community → grid). Pure functions.

export const PARAMS = ['community', 'grid', 'quarter'];

/** Only the parameters the endpoints know, in a fixed order, empty ones dropped. */
export function apiQuery(search) {
  const given = new URLSearchParams(search);
  const out = new URLSearchParams();
  for (const key of PARAMS) {
    const value = given.get(key);
    if (value) out.set(key, value);
  }
  const text = out.toString();
  return text ? `?${text}` : '';
}

/** The dashboard's URL for a level of the drill-down, keeping the quarter. */
export function levelHref(item, quarter) {
  const out = new URLSearchParams();
  if (item.level === 'community') out.set('community', item.id);
  if (item.level === 'grid') out.set('grid', item.id);
  if (quarter) out.set('quarter', quarter);
  const text = out.toString();
  return text ? `?${text}` : '?';
}
