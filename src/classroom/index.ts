/**
 * Classroom: assignments in nbgrader's format for TypeScript notebooks — solution and hidden-test markers, locked and
 * checksummed cells, automatic grading in fresh kernels with a grade book and feedback, and `check` for test cells.
 */
export { check, checkClose, CheckFailed, CHECK_MIME } from "./check";
export type { CheckRecord } from "./check";
export { makeAssignment, gradedCells } from "./assign";
export type { Assignment } from "./assign";
export { CODE_STUB, TEXT_STUB } from "./markers";
export { computeChecksum } from "./metadata";
export type { NbgraderMetadata } from "./metadata";
export { gradeSubmission, loadGradingSource, studentName } from "./grade";
export type { CellGrade, GradeOptions, GradingSource, SubmissionGrade } from "./grade";
export { gradeBookCSV, feedbackHTML } from "./gradebook";
export { assignNotebook, gradeClass, validateNotebook } from "./classroom";
export type { ClassGrades, ValidationResult } from "./classroom";
