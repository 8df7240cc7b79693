/**
 * How the panel decodes role words: an interface, so the table logic stays testable with a stub
 * and the bundle wires in core's decoder (the same one hovers use, in the profile's own layout).
 */
export interface RoleDecoder {
  /** Short summary of a page-role word, e.g. "4-level SMM !guest_mode"; null when it cannot decode. */
  pageRoleSummary: (kernelLabel: string, word: string) => string | null;
  /** Field-by-field decoding of a page-role word, one field per line; null when it cannot decode. */
  pageRoleDetails: (kernelLabel: string, word: string) => string | null;
  /** Field-by-field decoding of a 64-bit cpu role; null when it cannot decode. */
  cpuRoleDetails: (kernelLabel: string, word: string) => string | null;
}

/** Used when no decoder is available: the panel shows the raw words and says nothing it does not know. */
export const NO_DECODER: RoleDecoder = {
  pageRoleSummary: () => null,
  pageRoleDetails: () => null,
  cpuRoleDetails: () => null,
};
