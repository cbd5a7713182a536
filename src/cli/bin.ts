#!/usr/bin/env node
import { describeError, main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`portcullis: ${describeError(err)}\n`);
    process.exitCode = 1;
  },
);
