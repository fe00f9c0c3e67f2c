# Reference numbers from R survey with a finite population correction and with zero design df,
# for tests/test_model_fpc.py. Run from the repository root:
#   .venv/bin/python tests/r_reference/make_fpc_design.py
#   Rscript tests/r_reference/svyglm_fpc_reference.R
# Writes svyglm_fpc_reference.json. CI never runs R: the JSON is committed.
suppressMessages({library(survey); library(jsonlite)})
here <- "tests/r_reference"
fml <- child_labour ~ age + female + poverty + head_schooling + rural
options(survey.lonely.psu = "adjust")

rd <- function(f) read.csv(file.path(here, f),
                           colClasses = c(stratum = "character", psu = "character",
                                          region_id = "character", child_id = "character"))

ame_reference <- function(fit, des) {
  # Same as svyglm_reference.R: AMEs with unconditional linearised SEs (svyrecvar honours fpc).
  X <- model.matrix(fit); b <- coef(fit); w <- fit$prior.weights; W <- sum(w)
  me_i <- function(beta, j) {
    if (all(X[, j] %in% c(0, 1))) {
      X1 <- X; X1[, j] <- 1; X0 <- X; X0[, j] <- 0
      plogis(X1 %*% beta) - plogis(X0 %*% beta)
    } else {
      p <- plogis(X %*% beta); beta[j] * p * (1 - p)
    }
  }
  binfl <- (X * resid(fit, "working") * fit$weights) %*% fit$naive.cov
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

one <- function(label, f, des_fun, psu, fpc) {
  d <- rd(f)
  des <- des_fun(d)
  fit <- suppressWarnings(svyglm(fml, design = des, family = quasibinomial(),
                                 control = glm.control(epsilon = 1e-13, maxit = 100)))
  s <- suppressWarnings(summary(fit))$coefficients
  ci <- confint(fit)
  dom <- svyby(~child_labour, ~region_id, des, svymean)
  m <- svymean(~child_labour, des)
  list(label = label, file = f, psu = psu, fpc = fpc,
       coef = as.list(coef(fit)), se = as.list(sqrt(diag(vcov(fit)))),
       vcov = unname(vcov(fit)), names = names(coef(fit)),
       p_value = as.list(s[, 4]), ci_low = as.list(ci[, 1]), ci_high = as.list(ci[, 2]),
       df_residual = fit$df.residual, degf = degf(des),
       ame = ame_reference(fit, des),
       mean = list(mean = unname(coef(m)), se = unname(SE(m)),
                   deff = unname(deff(svymean(~child_labour, des, deff = TRUE)))),
       region = list(region_id = as.character(dom$region_id), mean = unname(coef(dom)),
                     se = unname(SE(dom))))
}

# survey side of the harmonisation check: covariate means and SEs, national and by region
covmeans <- function(f, fpc) {
  d <- rd(f)
  des <- if (is.null(fpc)) {
    svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = d)
  } else {
    svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = d,
              fpc = as.formula(paste0("~", fpc)))
  }
  cf <- ~age + female + poverty + head_schooling + rural
  m <- svymean(cf, des, deff = TRUE)
  by <- svyby(cf, ~region_id, des, svymean)
  list(file = f, fpc = fpc, mean = as.list(coef(m)), se = as.list(SE(m)),
       deff = as.list(deff(m)),
       region_id = as.character(by$region_id),
       region_mean = lapply(c("age", "female", "poverty", "head_schooling", "rural"),
                            function(v) by[[v]]),
       region_se = lapply(c("age", "female", "poverty", "head_schooling", "rural"),
                          function(v) by[[paste0("se.", v)]]))
}

res <- list(
  R_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  fits = list(
    cluster_fpc_count = one("cluster_fpc_count", "design_fpc.csv", function(d)
      svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, fpc = ~fpc_psu, nest = TRUE,
                data = d), "psu", "fpc_psu"),
    cluster_fpc_fraction = one("cluster_fpc_fraction", "design_fpc.csv", function(d)
      svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, fpc = ~fpc_frac, nest = TRUE,
                data = d), "psu", "fpc_frac"),
    element_fpc = one("element_fpc", "design_fpc.csv", function(d)
      svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~fpc_elem, data = d),
      "child_id", "fpc_elem"),
    element_nofpc = one("element_nofpc", "design_fpc.csv", function(d)
      svydesign(ids = ~1, strata = ~stratum, weights = ~weight, data = d), "child_id", NULL),
    zero_df = one("zero_df", "design_df0.csv", function(d)
      svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = d),
      "psu", NULL)
  ),
  means = list(plain = covmeans("design_fpc.csv", NULL),
               fpc = covmeans("design_fpc.csv", "fpc_psu"))
)
writeLines(toJSON(res, digits = I(17), auto_unbox = TRUE, pretty = TRUE, na = "string",
                  null = "null"),
           file.path(here, "svyglm_fpc_reference.json"))
cat("wrote", file.path(here, "svyglm_fpc_reference.json"), "\n")
