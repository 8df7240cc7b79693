export interface GeometryReport {
  width: number;
  grids: {
    id: string;
    columns: string[];
    cells: number;
    misaligned: unknown[];
    misalignedCount: number;
    scrollWidth: number;
    clientWidth: number;
    scrollHeight: number;
    clientHeight: number;
    hiddenColumns: number;
  }[];
  overlaps: unknown[];
}
export function panelGeometry(root: Element): GeometryReport;
export function geometryProblems(report: GeometryReport, options?: { essential?: Record<string, string[]> }): string[];
export function assertGeometry(report: GeometryReport, options?: { essential?: Record<string, string[]> }): void;
export const ESSENTIAL: Record<string, string[]>;
export const ESSENTIAL_COMPARE: Record<string, string[]>;
