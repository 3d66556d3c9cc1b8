#include "core/segment/spectral.h"

#include "core/util/error.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace fovea {

namespace {

// Dense: every eigenpair of L = I - M + 2 u uᵀ, where u is the known eigenvector of eigenvalue 0
// (the trivial one); the shift moves it to 2, so the smallest pairs left are the non-trivial ones
// even when the graph is disconnected and 0 is repeated.
void denseSmallest(const cv::Mat1d& normalized, const cv::Mat1d& trivial, int count, std::vector<double>& values,
                   cv::Mat1d& vectors) {
    const int n = normalized.rows;
    cv::Mat1d laplacian = cv::Mat1d::eye(n, n) - normalized + 2.0 * trivial.t() * trivial;
    laplacian = (laplacian + laplacian.t()) * 0.5;  // exact symmetry for the solver
    cv::Mat eigenvalues, eigenvectors;
    cv::eigen(laplacian, eigenvalues, eigenvectors);  // descending, vectors as rows
    values.assign(1, 0.0);
    vectors.create(count, n);
    trivial.copyTo(vectors.row(0));
    for (int i = 1; i < count; ++i) {
        const int source = n - i;
        values.push_back(eigenvalues.at<double>(source));
        eigenvectors.row(source).copyTo(vectors.row(i));
    }
}

// Lanczos with full reorthogonalisation on M = D^-1/2 A D^-1/2 restricted to the complement of
// its known top eigenvector `trivial` (eigenvalue 1): the count - 1 largest eigenpairs of M there
// are the non-trivial smallest ones of L.
void lanczosSmallest(const cv::Mat1d& normalized, const cv::Mat1d& trivial, int count, std::vector<double>& values,
                     cv::Mat1d& vectors) {
    const int n = normalized.rows;
    const int wanted = count - 1;
    int steps = std::min(n - 1, std::max(8 * wanted, 80));
    for (;;) {
        cv::Mat1d basis(steps + 1, n, 0.0);  // Lanczos vectors as rows
        std::vector<double> alpha, beta;
        // A deterministic start with weight on every vertex, orthogonal to the trivial vector.
        cv::Mat1d v(1, n);
        std::uint64_t state = 0x9E3779B97F4A7C15ULL;
        for (int i = 0; i < n; ++i) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            v(i) = 1.0 + double(state >> 40) / double(1ULL << 24);
        }
        v -= trivial * trivial.dot(v);
        v /= cv::norm(v);
        v.copyTo(basis.row(0));
        int built = 0;
        for (int j = 0; j < steps; ++j) {
            cv::Mat1d w = basis.row(j) * normalized;  // M symmetric: row vector times M
            const double a = w.dot(basis.row(j));
            alpha.push_back(a);
            // Full reorthogonalisation (twice is enough) against the basis and the trivial vector.
            for (int pass = 0; pass < 2; ++pass) {
                const cv::Mat1d active = basis.rowRange(0, j + 1);
                const cv::Mat1d coefficients = active * w.t();
                w -= coefficients.t() * active;
                w -= trivial * trivial.dot(w);
            }
            built = j + 1;
            const double b = cv::norm(w);
            if (b < 1e-12 || j + 1 == steps) break;
            beta.push_back(b);
            cv::Mat1d(w / b).copyTo(basis.row(j + 1));
        }
        cv::Mat1d tridiagonal(built, built, 0.0);
        for (int i = 0; i < built; ++i) {
            tridiagonal(i, i) = alpha[std::size_t(i)];
            if (i + 1 < built) tridiagonal(i, i + 1) = tridiagonal(i + 1, i) = beta[std::size_t(i)];
        }
        cv::Mat ritzValues, ritzVectors;
        cv::eigen(tridiagonal, ritzValues, ritzVectors);  // descending
        const int found = std::min(wanted, built);
        cv::Mat1d candidates = cv::Mat1d(ritzVectors.rowRange(0, found)) * basis.rowRange(0, built);
        double worst = 0.0;
        for (int i = 0; i < found; ++i) {
            const double mu = ritzValues.at<double>(i);
            const cv::Mat1d residual = candidates.row(i) * normalized - mu * candidates.row(i);
            worst = std::max(worst, cv::norm(residual));
        }
        if ((worst < 1e-9 && found == wanted) || steps >= n - 1) {
            values.assign(1, 0.0);
            vectors.create(count, n);
            trivial.copyTo(vectors.row(0));
            for (int i = 0; i < found; ++i) {
                values.push_back(1.0 - ritzValues.at<double>(i));
                const cv::Mat1d row = candidates.row(i) / cv::norm(candidates.row(i));
                row.copyTo(vectors.row(i + 1));
            }
            vectors = vectors.rowRange(0, found + 1).clone();
            return;
        }
        steps = std::min(n - 1, steps * 2);
    }
}

}  // namespace

SpectralPairs smallestGeneralizedEigenpairs(const cv::Mat1d& affinity, int count, EigenSolver solver) {
    const int n = affinity.rows;
    if (n < 2 || affinity.cols != n) throw Error("spectral partition: the affinity must be square with at least 2 nodes");
    if (count < 1 || count > n) throw Error("spectral partition: cannot take " + std::to_string(count) + " eigenvectors of " + std::to_string(n) + " nodes");
    cv::Mat1d invSqrtDegree(1, n), trivial(1, n);
    for (int i = 0; i < n; ++i) {
        const double degree = cv::sum(affinity.row(i))[0];
        if (!(degree > 0.0)) throw Error("spectral partition: node " + std::to_string(i) + " has no positive affinity");
        invSqrtDegree(i) = 1.0 / std::sqrt(degree);
        trivial(i) = std::sqrt(degree);
    }
    trivial /= cv::norm(trivial);
    cv::Mat1d normalized(n, n);
    for (int i = 0; i < n; ++i) {
        const double* a = affinity[i];
        double* m = normalized[i];
        for (int j = 0; j < n; ++j) m[j] = invSqrtDegree(i) * a[j] * invSqrtDegree(j);
    }
    const bool dense = solver == EigenSolver::Dense || (solver == EigenSolver::Automatic && (n <= 300 || count * 4 > n));
    SpectralPairs pairs;
    cv::Mat1d symmetricVectors;
    if (dense) {
        denseSmallest(normalized, trivial, count, pairs.values, symmetricVectors);
    } else {
        lanczosSmallest(normalized, trivial, count, pairs.values, symmetricVectors);
    }
    // x = D^-1/2 y.
    pairs.vectors.create(symmetricVectors.rows, n);
    for (int r = 0; r < symmetricVectors.rows; ++r) {
        for (int i = 0; i < n; ++i) pairs.vectors(r, i) = symmetricVectors(r, i) * invSqrtDegree(i);
    }
    return pairs;
}

}  // namespace fovea
