// A sparse symmetric positive definite solver for systems that live on some cells of a pixel
// grid, each cell coupled only to its 8 neighbours (a 9-point stencil). ROAD's linear imputer
// (metrics.h) is one: its unknowns are the removed pixels.
//
//     GridSystem system;
//     system.cells = {{3, 4}, {4, 4}};                  // (x, y) of each unknown
//     system.stencil = {...};                           // per unknown: 9 coefficients and neighbours
//     std::vector<double> x = solveGridSystem(system, b, /*channels*/ 3, start, 1e-12);
//
// Conjugate gradients preconditioned with a multigrid V-cycle: the coarser levels aggregate 2x2
// blocks of cells with a piecewise-constant prolongation P and the Galerkin matrix P^T A P, and
// symmetric Gauss-Seidel smoothing (forward before, backward after) keeps the preconditioner
// symmetric; the coarsest level is solved by a dense Cholesky factorisation. Plain Jacobi CG
// needs O(region diameter) iterations, this a few tens whatever the size.
#pragma once

#include <opencv2/core/types.hpp>

#include <array>
#include <vector>

namespace fovea {

// Row-major 3x3 neighbourhood: slot (dy + 1) * 3 + (dx + 1); slot 4 is the cell itself.
struct GridStencil {
    std::array<double, 9> coefficient{};  // A[i][j] for the unknown j at each offset, slot 4 the diagonal
    std::array<int, 9> neighbour{-1, -1, -1, -1, -1, -1, -1, -1, -1};  // unknown index, -1: none
};

struct GridSystem {
    std::vector<cv::Point> cells;      // grid position (x >= 0, y >= 0) of each unknown
    std::vector<GridStencil> stencil;  // one per unknown; must describe a symmetric matrix
};

// Solves A X = B for `channels` right-hand sides stored interleaved (B[i * channels + k]),
// starting from `start`, until each channel's residual is below `relativeTolerance` times its
// right-hand side's norm (or 1e-14 sqrt(n) for a zero one). Throws fovea::Error when the
// iterations run out (a matrix that is not positive definite).
std::vector<double> solveGridSystem(const GridSystem& system, const std::vector<double>& rightHand, int channels,
                                    std::vector<double> start, double relativeTolerance);

}  // namespace fovea
