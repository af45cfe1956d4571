// The bundle manifest's image preprocessing spec and its check, apart from the decoder (./preprocess.ts loads
// sharp), so a process that only verifies bundles does not load it.
export interface PreprocessingSpec {
  image_size: [number, number];
  channels: number;
  mean: number[];
  std: number[];
  scale?: number;
  layout?: string;
}

export function checkPreprocessingSpec(spec: PreprocessingSpec): void {
  const ok = Array.isArray(spec.image_size) && spec.image_size.length === 2 && (spec.channels === 1 || spec.channels === 3)
    && spec.mean?.length === spec.channels && spec.std?.length === spec.channels && (spec.layout ?? 'NCHW float32') === 'NCHW float32';
  if (!ok) throw new Error(`unsupported preprocessing spec ${JSON.stringify(spec)}`);
}
