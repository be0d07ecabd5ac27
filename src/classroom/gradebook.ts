/** The grade book (grades.csv: student, each grade_id, total, max) and one feedback page per student. */
import { escapeHTML } from "../plots";
import { notebookToHTML } from "../notebook";
import type { SubmissionGrade } from "./grade";

/** grades.csv: one row per student, a column per test cell (its grade_id, in notebook order), total and max. */
export function gradeBookCSV(grades: SubmissionGrade[], gradeIds: string[]): string {
  const rows = [["student", ...gradeIds, "total", "max"]];
  for (const grade of grades) {
    const byId = new Map(grade.cells.map((c) => [c.gradeId, c.points]));
    rows.push([grade.student, ...gradeIds.map((id) => formatPoints(byId.get(id) ?? 0)), formatPoints(grade.total), formatPoints(grade.max)]);
  }
  return rows.map((row) => row.map(csvField).join(",")).join("\n") + "\n";
}

/** A student's feedback page: the score, each test (passed or failed, its checks, the hint, the error), notes. */
export function feedbackHTML(grade: SubmissionGrade, assignment: string): string {
  const rows = grade.cells.map((cell) => {
    const ok = cell.points === cell.maxPoints;
    // The failed check is the reason; the list shows what passed before it.
    const checks = cell.checks
      .filter((c) => c.ok)
      .map((c) => `<li class="pass">✓ ${escapeHTML(c.name)}</li>`)
      .join("");
    return `<tr class="${ok ? "pass" : "fail"}"><td>${escapeHTML(cell.gradeId)}</td><td>${formatPoints(cell.points)} / ${formatPoints(cell.maxPoints)}</td><td>${ok ? "passed" : "failed"}${cell.reason ? `: ${escapeHTML(cell.reason)}` : ""}${checks ? `<ul>${checks}</ul>` : ""}</td></tr>`;
  });
  const notes = grade.notes.length ? `<h2>Notes</h2><ul>${grade.notes.map((n) => `<li>${escapeHTML(n)}</li>`).join("")}</ul>` : "";
  const notebook = grade.graded ? `<h2>Your notebook as graded</h2><iframe srcdoc="${escapeHTML(notebookToHTML(grade.graded, assignment))}"></iframe>` : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHTML(`${assignment}: feedback for ${grade.student}`)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd; padding: .4rem; text-align: left; vertical-align: top; }
tr.pass td:first-child { border-left: 4px solid #2da44e; } tr.fail td:first-child { border-left: 4px solid #cf222e; }
li.pass { color: #1a7f37; } iframe { width: 100%; height: 40rem; border: 1px solid #ddd; }
</style>
</head>
<body>
<h1>${escapeHTML(assignment)} — ${escapeHTML(grade.student)}</h1>
<p><strong>Score: ${formatPoints(grade.total)} of ${formatPoints(grade.max)}</strong></p>
<table><tr><th>test</th><th>points</th><th>result</th></tr>
${rows.join("\n")}
</table>
${notes}
${notebook}
</body>
</html>
`;
}

function formatPoints(points: number): string {
  return String(Math.round(points * 1000) / 1000);
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
