# Reference numbers from R survey::svyglm for tests/test_model_r_reference.py.
# Run from the repository root:  Rscript tests/r_reference/svyglm_reference.R
# Reads design.csv / design_singleton.csv (written by make_design.py) and writes
# svyglm_reference.json. CI never runs R: the JSON is committed.
suppressMessages({library(survey); library(jsonlite)})
here <- "tests/r_reference"
covs <- c("age", "female", "poverty", "head_schooling", "rural")
fml <- child_labour ~ age + female + poverty + head_schooling + rural

read_design <- function(f) {
  d <- read.csv(file.path(here, f), colClasses = c(stratum = "character", psu = "character",
                                                 region_id = "character"))
  d
}

ame_reference <- function(fit, des, d) {
  # Weighted average marginal effects with an unconditional linearised SE (Stata svy: margins).
  # The gradient dAME/dbeta is taken by central finite differences (independent of the
  # analytic gradient in clrisk), the design variance by survey:::svyrecvar.
  X <- model.matrix(fit); b <- coef(fit); w <- fit$prior.weights; W <- sum(w)
  me_i <- function(beta, j) {
    col <- colnames(X)[j]
    if (all(X[, j] %in% c(0, 1))) {
      X1 <- X; X1[, j] <- 1; X0 <- X; X0[, j] <- 0
      plogis(X1 %*% beta) - plogis(X0 %*% beta)
    } else {
      p <- plogis(X %*% beta); beta[j] * p * (1 - p)
    }
  }
  estfun <- X * resid(fit, "working") * fit$weights
  binfl <- estfun %*% fit$naive.cov
  out <- list()
  for (j in 2:ncol(X)) {
    m <- as.vector(me_i(b, j)); ame <- sum(w * m) / W
    g <- sapply(seq_along(b), function(k) {
      h <- 1e-6 * max(1, abs(b[k])); bp <- b; bm <- b; bp[k] <- b[k] + h; bm[k] <- b[k] - h
      (sum(w * me_i(bp, j)) - sum(w * me_i(bm, j))) / (2 * h * W)
    })
    z <- w * (m - ame) / W + binfl %*% g
    v <- survey:::svyrecvar(z, des$cluster, des$strata, des$fpc, postStrata = des$postStrata)
    out[[colnames(X)[j]]] <- list(ame = ame, se = sqrt(v[1, 1]))
  }
  out
}

one <- function(f, policy) {
  options(survey.lonely.psu = policy)
  d <- read_design(f)
  des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = d)
  # tight glm tolerance so the reference is accurate well beyond the 1e-6 comparison
  fit <- suppressWarnings(svyglm(fml, design = des, family = quasibinomial(),
                                 control = glm.control(epsilon = 1e-13, maxit = 100)))
  s <- summary(fit)$coefficients
  ci <- confint(fit)
  dom <- svyby(~child_labour, ~region_id, des, svymean)
  dci <- confint(dom, df = degf(des))
  list(file = f, lonely_psu = policy,
       coef = as.list(coef(fit)), se = as.list(sqrt(diag(vcov(fit)))),
       vcov = unname(vcov(fit)), names = names(coef(fit)),
       p_value = as.list(s[, 4]), ci_low = as.list(ci[, 1]), ci_high = as.list(ci[, 2]),
       df_residual = fit$df.residual, degf = degf(des),
       ame = ame_reference(fit, des, d),
       region = list(region_id = as.character(dom$region_id), mean = unname(coef(dom)),
                     se = unname(SE(dom)), ci_low_t = unname(dci[, 1]),
                     ci_high_t = unname(dci[, 2])))
}

res <- list(
  R_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  fits = list(
    base = one("design.csv", "adjust"),
    singleton_adjust = one("design_singleton.csv", "adjust"),
    singleton_remove = one("design_singleton.csv", "remove"),
    singleton_certainty = one("design_singleton.csv", "certainty"),
    singleton_average = one("design_singleton.csv", "average")
  )
)
writeLines(toJSON(res, digits = I(17), auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "svyglm_reference.json"))
cat("wrote", file.path(here, "svyglm_reference.json"), "\n")
