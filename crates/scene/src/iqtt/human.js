// The 3D-IQ test page: one question at a time, answers and times recorded in the browser,
// the score at the end and the answers offered as a JSON file (`pix2scene iqtt score`).
"use strict";
(function () {
  const questions = TEST.questions;
  const answers = [];
  let current = 0;
  let shownAt = 0;

  function show() {
    const q = questions[current];
    document.getElementById("progress").textContent =
      "Question " + (current + 1) + " of " + questions.length;
    document.getElementById("reference").src = q.images[0];
    for (let k = 0; k < 3; k++) {
      document.querySelector("#answer-" + k + " img").src = q.images[k + 1];
    }
    shownAt = performance.now();
  }

  function finish() {
    const correct = answers.filter(function (a, i) {
      return a.choice === questions[i].answer;
    }).length;
    const total = answers.length;
    const sheet = {
      format: TEST.format,
      version: TEST.version,
      test: TEST.test,
      answers: answers,
      score: { correct: correct, total: total },
    };
    window.answerSheet = sheet;
    document.getElementById("question").hidden = true;
    document.getElementById("done").hidden = false;
    document.getElementById("score").textContent =
      "You answered " + correct + " of " + total + " correctly (" +
      (100 * correct / total).toFixed(1) + " %).";
    const blob = new Blob([JSON.stringify(sheet, null, 1)], { type: "application/json" });
    document.getElementById("download").href = URL.createObjectURL(blob);
  }

  function answer(choice) {
    const ms = performance.now() - shownAt;
    answers.push({ question: questions[current].question, choice: choice, ms: ms });
    current += 1;
    if (current < questions.length) {
      show();
    } else {
      finish();
    }
  }

  for (let k = 0; k < 3; k++) {
    document.getElementById("answer-" + k).addEventListener("click", function () {
      answer(k);
    });
  }
  show();
})();
