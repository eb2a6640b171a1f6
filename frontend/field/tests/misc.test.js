import { describe, it, expect } from 'vitest';
import { cardNumberFrom } from '../src/lib/card.js';
import { fitSize } from '../src/lib/image.js';
import { errorMessage, STATE_LABELS } from '../src/lib/outbox.js';

describe('card numbers', () => {
  it('reads the number out of the card URL the QR holds, or takes a typed one', () => {
    expect(cardNumberFrom('https://example.org/cards/0000000141/')).toBe('0000000141');
    expect(cardNumberFrom('http://127.0.0.1:8000/cards/0000000141')).toBe('0000000141');
    expect(cardNumberFrom('/cards/A12%2034/?x=1')).toBe('A12 34');
    expect(cardNumberFrom(' 0000 000 141 ')).toBe('0000000141');
    expect(cardNumberFrom('')).toBe('');
  });
});

describe('photos', () => {
  it('fit within 1600 px on the longest side, never enlarged', () => {
    expect(fitSize(4000, 3000)).toEqual({ width: 1600, height: 1200 });
    expect(fitSize(3000, 4000)).toEqual({ width: 1200, height: 1600 });
    expect(fitSize(800, 600)).toEqual({ width: 800, height: 600 });
  });
});

describe('labels', () => {
  it('names the three states the worker sees', () => {
    expect([STATE_LABELS.pending, STATE_LABELS.sent, STATE_LABELS.failed]).toEqual(['待同步', '已同步', '同步失败']);
    expect(errorMessage(403, { detail: '该居民已迁出本网格。' })).toBe('该居民已迁出本网格。');
  });
});
