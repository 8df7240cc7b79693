import { strict as assert } from 'node:assert';
import {
  LINK_FORMAT,
  MAX_LINK_SCENARIO_CHARS,
  decodeFragment,
  encodeFragment,
  fromBase64Url,
  shareRefusal,
  toBase64Url,
  type DecodeResult,
  type ViewState,
} from '../src/permalink.js';

const STATE: ViewState = {
  text: 'kernel v6.3\nvm vcpus=1\nsregs cr0=PE|PG cr4=PAE efer=LME|LMA\nrun   # ünïcödé ✓ \u{1F600}\nsmi\nrsm\n',
  kernel: 'v6.3',
  line: 4,
  panelOpen: true,
  compareKernel: 'v6.4',
};

/** A version-1 link as the first playground wrote it: it must open the same forever. */
const V1_LINK =
  'v=1&k=v6.3&l=4&p=1&c=v6.4&s=y04tykvNUSgz0zPmKstVKEsuKC22NeQqLkpNL1ZILjKwDXCtCXBXSC4ysQ1wdFVITUstsvXxda3x8XXkKirNU1BQUFY4vCfv8Prkw9tSDq9UeDRnssKH-TMauIpzM7mKinO5AA';

async function refused(fragment: string): Promise<string> {
  const r: DecodeResult = await decodeFragment(fragment);
  assert.equal(r.kind, 'error', `${fragment.slice(0, 80)} → ${JSON.stringify(r).slice(0, 200)}`);
  return r.kind === 'error' ? r.message : '';
}

describe('playground share links', () => {
  it('round-trips the scenario, kernel, line, panel and comparison', async () => {
    const fragment = await encodeFragment(STATE);
    assert.match(fragment, new RegExp(`^v=${LINK_FORMAT}&`));
    assert.deepEqual(await decodeFragment(`#${fragment}`), { kind: 'ok', state: STATE });
  });

  it('keeps the defaults out of the link and restores them', async () => {
    const plain: ViewState = { text: 'run\n', kernel: 'latest', line: 0, panelOpen: false, compareKernel: null };
    const fragment = await encodeFragment(plain);
    assert.doesNotMatch(fragment, /[&](l|p|c)=/);
    assert.deepEqual(await decodeFragment(fragment), { kind: 'ok', state: plain });
  });

  it('opens a link written by format 1 exactly as it was written', async () => {
    const r = await decodeFragment(V1_LINK);
    assert.equal(r.kind, 'ok', JSON.stringify(r));
    if (r.kind !== 'ok') return;
    assert.deepEqual(r.state, STATE);
  });

  it('ignores keys it does not know (a later writer may add some)', async () => {
    const r = await decodeFragment(`${await encodeFragment(STATE)}&future=1&x`);
    assert.deepEqual(r, { kind: 'ok', state: STATE });
  });

  it('has nothing to say about an empty fragment', async () => {
    assert.deepEqual(await decodeFragment(''), { kind: 'empty' });
    assert.deepEqual(await decodeFragment('#'), { kind: 'empty' });
  });

  it('says which playground a link from a newer format needs', async () => {
    assert.match(await refused(`v=${LINK_FORMAT + 1}&s=AA`), /newer playground/);
    assert.match(await refused('v=0&s=AA'), /does not exist/);
    assert.match(await refused('v=one&s=AA'), /not a number/);
    assert.match(await refused('s=AA'), /no format version/);
  });

  it('refuses tampered and malformed fragments with a message, never an exception', async () => {
    const good = await encodeFragment(STATE);
    const s = new URLSearchParams(good).get('s')!;
    const cases = [
      good.replace(/s=.*/, 's=!!!!'),
      good.replace(/s=.*/, `s=${s.slice(0, s.length >> 1)}`), // cut short
      good.replace(/s=.*/, `s=${s.slice(0, 10)}Z${s.slice(11)}`), // one character changed
      good.replace(/s=.*/, 's=A'), // impossible base64 length
      good.replace(/s=.*/, `s=${toBase64Url(new Uint8Array([0xff, 0xfe, 0xfd, 0x00, 0x01]))}`), // not deflate
      good.replace(/k=[^&]*/, 'k=%3Cscript%3E'),
      good.replace(/k=[^&]*/, 'k=v6.3&c=%22%3E%3Cimg'),
      good.replace(/l=4/, 'l=-1'),
      good.replace(/l=4/, 'l=99999999999'),
      good.replace(/&s=.*/, ''),
      '%%%%',
      '\u0000\u0001',
      'v=1&s=%E0%A4%A',
    ];
    for (const fragment of cases) {
      const r = await decodeFragment(fragment);
      // A changed character may still inflate to text (deflate has no checksum); then it is simply a scenario.
      if (r.kind === 'ok') {
        assert.equal(typeof r.state.text, 'string');
        continue;
      }
      assert.equal(r.kind, 'error', fragment);
      if (r.kind === 'error') assert.ok(r.message.length > 0 && r.message.length < 200, r.message);
    }
    assert.match(await refused(good.replace(/s=.*/, 's=!!!!')), /not base64url/);
    assert.match(await refused(good.replace(/&s=.*/, '')), /no scenario/);
    assert.match(await refused(good.replace(/k=[^&]*/, 'k=%3Cscript%3E')), /no valid kernel/);
  });

  it('refuses deflated bytes that are not UTF-8', async () => {
    const raw = new Blob([new Uint8Array([0x72, 0x75, 0x6e, 0xff, 0xfe])])
      .stream()
      .pipeThrough(new CompressionStream('deflate-raw'));
    const s = toBase64Url(new Uint8Array(await new Response(raw).arrayBuffer()));
    assert.match(await refused(`v=1&k=latest&s=${s}`), /not UTF-8/);
  });

  it('refuses to share a 1 MB scenario, and a link that carries one', async () => {
    const huge = 'run\n'.repeat(256 * 1024); // 1 MiB
    assert.match(shareRefusal(huge) ?? '', /too large to share/);
    assert.equal(shareRefusal('run\n'.repeat(1000)), null);
    // A hand-made link with it: small once compressed, refused once inflated.
    const fragment = await encodeFragment({ ...STATE, text: huge });
    assert.ok(fragment.length < 10_000, `${fragment.length}`);
    assert.match(await refused(fragment), /larger than links may carry/);
    assert.match(await refused(`v=1&s=${'A'.repeat(600 * 1024)}`), /too long/);
  });

  it('stops inflating a decompression bomb early', async () => {
    const zeros = new Uint8Array(8 * 1024 * 1024);
    const s = toBase64Url(
      new Uint8Array(
        await new Response(new Blob([zeros]).stream().pipeThrough(new CompressionStream('deflate-raw'))).arrayBuffer(),
      ),
    );
    assert.match(await refused(`v=1&s=${s}`), /larger than links may carry/);
  });

  it('shares exactly at the limit', async () => {
    const text = 'x'.repeat(MAX_LINK_SCENARIO_CHARS);
    assert.equal(shareRefusal(text), null);
    const r = await decodeFragment(await encodeFragment({ ...STATE, text }));
    assert.equal(r.kind === 'ok' ? r.state.text.length : -1, MAX_LINK_SCENARIO_CHARS);
  });

  it('encodes base64url without padding and decodes it back', () => {
    for (let n = 0; n < 10; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 251) & 0xff);
      const text = toBase64Url(bytes);
      assert.match(text, /^[A-Za-z0-9_-]*$/);
      assert.deepEqual(fromBase64Url(text), bytes);
    }
  });
});
