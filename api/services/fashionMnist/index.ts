// The generator's entry point lives in ../fashionMnist.ts; this re-export lets either import path work.
export * from '../fashionMnist.js';
