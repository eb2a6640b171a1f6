// A points card's QR holds a URL like https://host/cards/<number>/ (points/urls.py); a typed
// number works as well.
export function cardNumberFrom(text) {
  const raw = String(text || '').trim();
  if (!raw) return '';
  const m = raw.match(/\/cards\/([^/?#\s]+)\/?/);
  if (m && m[1] !== 'sheet') return decodeURIComponent(m[1]);
  return raw.replace(/\s+/g, '');
}
