//! The supervised losses on labelled 3D-IQTT questions: paper Eq. 5 (Pix2Scene's scene codes),
//! the contrastive loss of paper Eq. 7 (the Siamese baseline's features) and a triplet ranking
//! loss (not in the paper).

use burn::tensor::{Tensor, assert_shape};

use crate::answer::{ANSWERS, answer_mask};

/// The margin `m` of the contrastive loss (paper Appendix D: "which we set to 2.0").
pub const CONTRASTIVE_MARGIN: f64 = 2.0;

/// Added to a squared distance before its square root, so that the hinge's gradient stays
/// finite when two codes coincide.
const SQRT_EPS: f64 = 1e-12;

/// Paper Eq. 5, averaged over the questions.
///
/// `L = ½·D(x_ref, x_ans) − ½·Σ_{i=1,2} D(x_ref, x_di)` with
/// `D(x1, x2) = (‖z_scene(x1) − z_scene(x2)‖₂)²`: it pulls the reference's scene code towards
/// the correct answer's and pushes it away from the two distractors'.
///
/// How the equation is read: the extracted text shows `1 12` above
/// `2Do(Xref, Xans) - 2 Σ Dθ (Xref, Xdi )` and `(||zsxc1ene - zsxc2ene||2)2` for `D`; the
/// stray `1`s over the `2`s are the numerators of two fractions `½`, the sum runs over the two
/// distractors, and `D` is the squared L2 distance (the norm's subscript 2, then the square).
/// As written the loss is unbounded below (the distractor term grows without limit); the
/// encoder's other objectives bound the codes in practice, and the bounded alternative is
/// [`contrastive_loss`].
///
/// # Shapes
/// - `distances`: `[batch, 3]`, the squared distances from the reference's scene code to each
///   answer's ([`crate::option_distances`] of the scene codes)
/// - `answers`: the correct answer (0, 1 or 2) of each question, `batch` of them
/// - returns `[1]`
///
/// # Panics
/// If the shapes disagree or an answer is not 0, 1 or 2.
pub fn question_loss(distances: Tensor<2>, answers: &[u8]) -> Tensor<1> {
    assert_shape!(distances, [answers.len(), ANSWERS]);
    // Weight ½ on the correct answer, −½ on each distractor.
    let weights = answer_mask(answers, &distances.device()).sub_scalar(0.5);
    (distances * weights).sum_dim(1).mean()
}

/// The contrastive loss of paper Eq. 7 (Hadsell et al. 2006), averaged over the three
/// (reference, answer) pairs of every question.
///
/// `L(x1, x2, y) = (1 − y)·½·D² + y·½·max(0, m − D)²` with `D = ‖G(x1) − G(x2)‖₂`, `y = 0` for
/// the pair (reference, correct answer) and `y = 1` for each (reference, distractor) pair: the
/// paper's "used slightly differently" is read as this use of the three pairs a question makes.
/// The extracted `(1 - y)1(Dθ(xι, x2))2 + (y)2(max(0,m - Dθ(xi, X)))2` has the fractions' `½`
/// flattened into `1…2`, as in Hadsell et al.
///
/// # Shapes
/// - `distances`: `[batch, 3]`, the squared distances `D²` from the reference's features to
///   each answer's ([`crate::option_distances`])
/// - `answers`: the correct answer (0, 1 or 2) of each question, `batch` of them
/// - `margin`: `m` ([`CONTRASTIVE_MARGIN`] in the paper), in the features' units
/// - returns `[1]`
///
/// # Panics
/// If the shapes disagree or an answer is not 0, 1 or 2.
pub fn contrastive_loss(distances: Tensor<2>, answers: &[u8], margin: f64) -> Tensor<1> {
    assert_shape!(distances, [answers.len(), ANSWERS]);
    let same = answer_mask(answers, &distances.device());
    let different = same.clone().neg().add_scalar(1.0);
    let d = distances.clone().add_scalar(SQRT_EPS).sqrt();
    let hinge = d.neg().add_scalar(margin).clamp_min(0.0).powi_scalar(2);
    (same * distances + different * hinge)
        .mul_scalar(0.5)
        .mean()
}

/// A triplet ranking loss (Schroff et al. 2015), averaged over the two (correct answer,
/// distractor) pairs of every question: `L = max(0, m + D_ans − D_dist)` with `D = ‖z_ref −
/// z‖₂`. Not in the paper. Unlike Eq. 5 and Eq. 7 it does not pull the correct answer's code
/// onto the reference's: it asks only that the correct answer be nearer than each distractor by
/// the margin, and a question that is answered by the margin costs nothing.
///
/// # Shapes
/// - `distances`: `[batch, 3]`, the squared distances `D²` from the reference's code to each
///   answer's ([`crate::option_distances`])
/// - `answers`: the correct answer (0, 1 or 2) of each question, `batch` of them
/// - `margin`: `m`, in the codes' units
/// - returns `[1]`
///
/// # Panics
/// If the shapes disagree or an answer is not 0, 1 or 2.
pub fn triplet_loss(distances: Tensor<2>, answers: &[u8], margin: f64) -> Tensor<1> {
    assert_shape!(distances, [answers.len(), ANSWERS]);
    let same = answer_mask(answers, &distances.device());
    let different = same.clone().neg().add_scalar(1.0);
    let d = distances.add_scalar(SQRT_EPS).sqrt();
    let correct = (d.clone() * same).sum_dim(1);
    let hinge = (correct.add_scalar(margin) - d).clamp_min(0.0) * different;
    hinge.sum_dim(1).mean().div_scalar((ANSWERS - 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{device, to_vec};
    use burn::tensor::TensorData;

    /// Squared distances of two questions: [25, 1, 4] and [2, 2, 8].
    fn distances() -> Tensor<2> {
        let d = vec![25.0, 1.0, 4.0, 2.0, 2.0, 8.0];
        Tensor::from_data(TensorData::new(d, [2, 3]), &device().autodiff()).require_grad()
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn eq5_on_hand_computed_questions() {
        let d = distances();
        let loss = question_loss(d.clone(), &[1, 2]);
        // ½·1 − ½·(25 + 4) = −14 and ½·8 − ½·(2 + 2) = 2, mean −6.
        close(&to_vec(loss.clone()), &[-6.0]);
        // ∂L/∂D = ±½ / batch.
        let grad = d.grad(&loss.backward()).unwrap();
        close(&to_vec(grad), &[-0.25, 0.25, -0.25, -0.25, -0.25, 0.25]);
    }

    #[test]
    fn eq7_on_hand_computed_questions() {
        let d = distances();
        let loss = contrastive_loss(d.clone(), &[1, 2], CONTRASTIVE_MARGIN);
        // Question 1: correct pair ½·1; distractors at D = 5 and 2 are beyond the margin.
        // Question 2: correct pair ½·8; distractors at D = √2: ½·(2 − √2)² = 0.171573 each.
        // Mean over six pairs: (0.5 + 4 + 0.343146) / 6.
        close(&to_vec(loss.clone()), &[0.807191]);
        // ∂/∂D²: ½/6 for correct pairs; −(m − D)/(2D)/6 inside the margin; 0 beyond it.
        let inside = -(2.0 - 2f64.sqrt()) / (2.0 * 2f64.sqrt()) / 6.0;
        let grad = d.grad(&loss.backward()).unwrap();
        close(
            &to_vec(grad),
            &[0.0, 1.0 / 12.0, 0.0, inside, inside, 1.0 / 12.0],
        );
    }

    #[test]
    fn triplet_on_hand_computed_questions() {
        let d = distances();
        let loss = triplet_loss(d.clone(), &[1, 2], CONTRASTIVE_MARGIN);
        // Question 1: D = 5, 1, 2 with answer 1: max(0, 2 + 1 − 5) = 0, max(0, 2 + 1 − 2) = 1.
        // Question 2: D = √2, √2, √8 with answer 2: 2 + √8 − √2 twice.
        // Mean over four pairs.
        let q2 = 2.0 + 8f64.sqrt() - 2f64.sqrt();
        close(&to_vec(loss.clone()), &[(1.0 + 2.0 * q2) / 4.0]);
        // ∂D/∂D² = 1/(2D): each active pair adds +1/(2D) to its correct answer and −1/(2D)
        // to its distractor, over four pairs.
        let (r1, r2, r8) = (0.5, 0.5 / 2f64.sqrt(), 0.5 / 8f64.sqrt());
        let grad = d.grad(&loss.backward()).unwrap();
        close(
            &to_vec(grad),
            &[
                0.0,
                r1 / 4.0,
                -0.5 / 2.0 / 4.0,
                -r2 / 4.0,
                -r2 / 4.0,
                2.0 * r8 / 4.0,
            ],
        );
    }

    #[test]
    fn coinciding_codes_keep_a_finite_gradient() {
        let d = Tensor::<2>::from_data(TensorData::new(vec![0.0f32; 3], [1, 3]), &device())
            .autodiff()
            .require_grad();
        let loss = contrastive_loss(d.clone(), &[0], CONTRASTIVE_MARGIN);
        // Two distractor pairs at D = 0: ½·m² each, over three pairs.
        close(&to_vec(loss.clone()), &[4.0 / 3.0]);
        let grad = to_vec(d.grad(&loss.backward()).unwrap());
        assert!(grad.iter().all(|g| g.is_finite()), "{grad:?}");
    }
}
