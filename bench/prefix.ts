// Writes the first N records of an encoded file as a file of its own (encodings and metadata, the
// count set to N), so a smaller registry can be cut from a larger one without encoding again.
// Run: node dist/bench/prefix.js IN.arrow OUT.arrow N
import { readEncodedChunks, writeEncodedStream } from '../src/io/encoded-file.js';

const [input, output, countText] = process.argv.slice(2);
const wanted = Number(countText);
if (!input || !output || !Number.isInteger(wanted) || wanted <= 0) throw new Error('usage: node dist/bench/prefix.js IN.arrow OUT.arrow N');
let opened = false;
for await (const first of readEncodedChunks(input, 1)) {
  const { recordCount: _count, ...metadata } = first.metadata!;
  await writeEncodedStream(output, first.filterBits, metadata, first.ids !== null, async (sink) => {
    for await (const chunk of readEncodedChunks(input, 1 << 20)) {
      const take = Math.min(chunk.count, wanted - chunk.start);
      if (take <= 0) break;
      const width = chunk.filterBits / 8;
      const keyWidth = chunk.blockKeys === null ? 0 : chunk.blockKeys.length / chunk.count;
      await sink.write({
        clks: chunk.clks.subarray(0, take * width),
        popcounts: chunk.popcounts.subarray(0, take),
        blockKeys: chunk.blockKeys?.subarray(0, take * keyWidth) ?? null,
        ids: chunk.ids?.slice(0, take) ?? null,
      });
      if (chunk.start + take >= wanted) break;
    }
  });
  opened = true;
  break;
}
if (!opened) throw new Error(`${input}: no records`);
