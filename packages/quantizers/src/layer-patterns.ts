import { ConfigError, type Network, type WeightLayer } from '@qtdog/core';

/** `*` matches any run of characters; everything else is literal. */
export function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/**
 * The layers a quantizer acts on: every convolution by default (the classifier stays float, as in
 * QT-DoG); with patterns, the layers whose names match. A pattern matching nothing is an error, so a
 * typo never silently leaves the network in full precision.
 */
export function selectLayers(network: Network, patterns: string[] | undefined, where: string): WeightLayer[] {
  if (!patterns) return network.layers.filter((l) => l.type === 'conv');
  const names = network.layers.map((l) => l.name);
  const chosen = new Set<string>();
  for (const [i, p] of patterns.entries()) {
    const re = patternToRegExp(p);
    const hits = names.filter((n) => re.test(n));
    if (hits.length === 0) {
      throw new ConfigError(`${where}.layers[${i}]: pattern '${p}' matches no layer of ${network.name}; its layers are: ${names.join(', ')}`);
    }
    hits.forEach((h) => chosen.add(h));
  }
  return network.layers.filter((l) => chosen.has(l.name));
}
