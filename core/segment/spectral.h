// Spectral partitioning of an affinity graph over patches, as TokenCut and deep spectral methods
// use it: the smallest eigenpairs of the generalised problem (D - A) x = λ D x with D = diag(A 1).
// Torch-free.
//
//     cv::Mat1d affinity = ...;                        // n x n, symmetric, non-negative
//     SpectralPairs pairs = smallestGeneralizedEigenpairs(affinity, /*count*/ 3);
//     // pairs.values[0] ~ 0 (the constant vector), pairs.values[1]: the Fiedler value,
//     // pairs.vectors.row(1): its eigenvector x (D-orthonormal: xᵀ D x = 1)
//
// It solves the symmetric form L = I - D^-1/2 A D^-1/2, y = D^1/2 x: densely (cv::eigen) for
// small graphs and by Lanczos with full reorthogonalisation for larger ones (cv::eigen takes
// about 3 s on 1,024 patches; Lanczos about 100x less).
#pragma once

#include <opencv2/core/mat.hpp>

#include <vector>

namespace fovea {

enum class EigenSolver { Automatic, Dense, Lanczos };

struct SpectralPairs {
    std::vector<double> values;  // ascending
    cv::Mat1d vectors;           // one generalised eigenvector per row, xᵀ D x = 1
};

// affinity: symmetric with positive row sums. Throws fovea::Error otherwise.
SpectralPairs smallestGeneralizedEigenpairs(const cv::Mat1d& affinity, int count,
                                            EigenSolver solver = EigenSolver::Automatic);

}  // namespace fovea
