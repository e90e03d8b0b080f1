"""Practitioner publicity registry 执业公示 (M4, seed 004), part 1: inspection units and their
administration: unit change requests 单位信息变更, qualification requests 单位资质管理,
branches 二级单位管理 and sub-accounts 单位账号管理."""
